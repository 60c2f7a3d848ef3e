"""The review as a one-page HTML report a team lead prints: the findings soonest first,
the references per tag, and a timeline of the references by tag and year drawn as SVG
here (no script, no network: it reads the same printed, offline or in a mail)."""

from __future__ import annotations

import datetime as dt
from html import escape

from refsheets.review import (
    KIND_LABELS,
    WINDOWS,
    Finding,
    Lang,
    Review,
    TimelineItem,
    day_text,
)

# The timeline's geometry, in SVG user units (the drawing scales to the page's width).
_WIDTH = 760
_LABEL_W = 170
_ROW_H = 16
_TOP = 34
_BOTTOM = 22
_MAX_FINDINGS = 20  # one printed page: the rest are counted, and `review` lists them all
_MAX_TAGS = 14  # rows of the timeline, the most used tags first

_COLOURS = {  # in the 3-year window, in the 5-year window only, older
    3: "#1f5fa8",
    5: "#7aa7d9",
    0: "#c4c9cf",
}
# The page's own words, per language (the findings come in the review's language).
_TEXTS = {
    "fr": {
        "summary": "{missions} missions · {overdue} relecture(s) en retard · {windows} "
        "sortie(s) de fenêtre d'ici {horizon} mois · relecture tous les {period} mois",
        "more": "… et {more} autre(s) : <code>refsheets review</code> les liste toutes.",
        "title": "{title} — revue du {today}",
        "h1": "{title} — revue des références",
        "as_of": "Au {today} : ",
        "h_timeline": "Frise des références par thématique",
        "h_todo": "À faire, le plus urgent d'abord",
        "th": "<th>Date</th><th>Quoi</th><th>Mission : détail</th>",
        "h_tags": "Références qui comptent aujourd'hui, par thématique",
        "tag_head": "<th>Thématique</th><th>3 ans</th><th>5 ans</th><th>Toutes</th>",
        "attestation": "sans attestation de bonne exécution",
        "never": "jamais relues : ajouter « reviewed: » (et « owner: ») une fois relues",
        "missions": "{count} mission(s)",
        "colon": " : ",
        "svg_label": "Frise des références par thématique et par année",
        "svg_title": "Références par thématique et par année, au {today}",
        "undated_row": "+ {count} sans dates",
        "cutoff": "− {years} ans",
        "today": "aujourd'hui",
        "legend": "compte sur 3 ans|sur 5 ans seulement|plus ancienne",
        "hidden": "+ {count} autre(s) thématique(s), moins utilisées",
        "undated": "{count} mission(s) sans dates ne peuvent pas figurer sur la frise",
    },
    "en": {
        "summary": "{missions} missions · {overdue} review(s) overdue · {windows} "
        "window exit(s) within {horizon} months · reviewed every {period} months",
        "more": "… and {more} more: <code>refsheets review</code> lists them all.",
        "title": "{title} — review of {today}",
        "h1": "{title} — references review",
        "as_of": "As of {today}: ",
        "h_timeline": "References by tag, on a timeline",
        "h_todo": "To do, most urgent first",
        "th": "<th>Date</th><th>What</th><th>Mission: detail</th>",
        "h_tags": "References that qualify today, per tag",
        "tag_head": "<th>Tag</th><th>3 years</th><th>5 years</th><th>All</th>",
        "attestation": "no attestation of good performance",
        "never": "never reviewed: add 'reviewed:' (and 'owner:') once read through",
        "missions": "{count} mission(s)",
        "colon": ": ",
        "svg_label": "Timeline of the references by tag and year",
        "svg_title": "References by tag and year, as of {today}",
        "undated_row": "+ {count} undated",
        "cutoff": "− {years} years",
        "today": "today",
        "legend": "counts over 3 years|over 5 years only|older",
        "hidden": "+ {count} other tag(s), less used",
        "undated": "{count} mission(s) without dates cannot be drawn",
    },
}


def review_html(review: Review, *, title: str) -> str:
    """The whole report as one HTML page (A4, printable), SVG timeline inline."""
    t = _TEXTS[review.lang]
    today = day_text(review.today, review.lang)
    rows_in = _grouped(review.findings, review.lang)
    shown = rows_in[:_MAX_FINDINGS]
    more = len(rows_in) - len(shown)
    windows_soon = sum(1 for f in review.findings if f.kind == "window")
    summary = t["summary"].format(
        missions=review.missions,
        overdue=len(review.overdue),
        windows=windows_soon,
        horizon=review.horizon_months,
        period=review.review_period_months,
    )
    rows = "\n".join(_finding_row(f, review.lang) for f in shown)
    if more:
        rows += f'\n<tr><td colspan="3" class="more">{t["more"].format(more=more)}</td></tr>'
    tag_head = f"<thead><tr>{t['tag_head']}</tr></thead>"
    half = (len(review.tags) + 1) // 2
    tag_tables = "".join(
        f'<td class="half"><table>{tag_head}<tbody>'
        + "".join(
            f"<tr><td>{escape(t.label)}</td>"
            + "".join(f'<td class="n">{t.within[n]}</td>' for n in WINDOWS)
            + f'<td class="n">{t.total}</td></tr>'
            for t in part
        )
        + "</tbody></table></td>"
        for part in (review.tags[:half], review.tags[half:])
    )
    return f"""<!DOCTYPE html>
<html lang="{review.lang}">
<head>
<meta charset="utf-8">
<title>{escape(t["title"].format(title=title, today=today))}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font-family: "Lato", "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #1d2733;
       margin: 0; }}
h1 {{ font-size: 15pt; margin: 0 0 2pt; }}
h2 {{ font-size: 10pt; margin: 9pt 0 3pt; text-transform: uppercase; letter-spacing: .04em;
      color: #1f5fa8; }}
p.summary {{ margin: 0 0 4pt; color: #4a5866; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 1.6pt 4pt; border-bottom: .4pt solid #d5dbe1;
          vertical-align: top; }}
th {{ font-size: 7.5pt; color: #4a5866; }}
td.n {{ text-align: right; }}
td.date {{ white-space: nowrap; }}
td.kind {{ white-space: nowrap; font-weight: bold; }}
tr.overdue td.kind {{ color: #b3261e; }}
tr.window td.kind {{ color: #8a5a00; }}
td.more {{ color: #4a5866; font-style: italic; }}
table.columns, table.columns > tbody > tr > td {{ border: none; padding: 0; }}
table.columns > tbody > tr > td.half {{ width: 50%; padding-right: 8pt; }}
svg {{ width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>{escape(t["h1"].format(title=title))}</h1>
<p class="summary">{t["as_of"].format(today=today)}{escape(summary)}</p>
<h2>{t["h_timeline"]}</h2>
{timeline_svg(review)}
<h2>{escape(t["h_todo"])}</h2>
<table>
<thead><tr>{t["th"]}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>{escape(t["h_tags"])}</h2>
<table class="columns"><tbody><tr>{tag_tables}</tr></tbody></table>
</body>
</html>
"""


def _grouped(findings: list[Finding], lang: Lang) -> list[Finding]:
    """Findings said the same way of many missions, as one row naming them all."""
    t = _TEXTS[lang]
    rows: list[Finding] = []
    groups: dict[str, list[str]] = {}
    for finding in findings:
        key = (
            "never"
            if finding.kind == "overdue" and finding.date is None
            else finding.kind
            if finding.kind == "attestation"
            else None
        )
        if key is None:
            rows.append(finding)
            continue
        if key not in groups:
            groups[key] = []
            rows.append(Finding(finding.kind, key, ""))  # placeholder, filled below
        groups[key].append(finding.mission_id)
    return [
        Finding(
            row.kind,
            t["missions"].format(count=len(groups[row.mission_id])),
            f"{t[row.mission_id]}{t['colon']}{', '.join(groups[row.mission_id])}",
        )
        if row.mission_id in groups and not row.message
        else row
        for row in rows
    ]


def _finding_row(finding: Finding, lang: Lang) -> str:
    date = day_text(finding.date, lang) if finding.date else ""
    who = f" ({escape(finding.owner)})" if finding.owner else ""
    return (
        f'<tr class="{finding.kind}"><td class="date">{date}</td>'
        f'<td class="kind">{KIND_LABELS[lang].get(finding.kind, finding.kind)}</td>'
        f"<td><b>{escape(finding.mission_id)}</b>{who}{_TEXTS[lang]['colon']}"
        f"{escape(finding.message)}</td></tr>"
    )


def timeline_svg(review: Review) -> str:
    """The references by tag (rows) and year (columns) as an SVG drawing: one bar per
    mission and tag, coloured by the window it still counts in today, with the 3- and
    5-year cut-offs and today drawn across."""
    t = _TEXTS[review.lang]
    items = [item for item in review.timeline if item.start is not None]
    tags = [(t.tag, t.label) for t in review.tags[:_MAX_TAGS]]
    hidden = len(review.tags) - len(tags)
    undated = [item for item in review.timeline if item.start is None]
    today = review.today
    first_year = min([item.start[0] for item in items if item.start] + [today.year - 5])
    last_year = today.year + 1
    span = (last_year - first_year) * 12
    plot_w = _WIDTH - _LABEL_W - 10

    def x(year: int, month: int) -> float:
        return _LABEL_W + plot_w * ((year - first_year) * 12 + (month - 1)) / span

    height = _TOP + _ROW_H * max(1, len(tags)) + _BOTTOM + (12 if hidden or undated else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'role="img" aria-label="{escape(t["svg_label"])}">',
        f"<title>{escape(t['svg_title'].format(today=day_text(today, review.lang)))}</title>",
    ]
    for year in range(first_year, last_year + 1):
        left = x(year, 1)
        parts.append(
            f'<line x1="{left:.1f}" y1="{_TOP - 4}" x2="{left:.1f}" y2="{height - _BOTTOM}" '
            'stroke="#e3e7eb" stroke-width="0.6"/>'
        )
        if year < last_year:
            parts.append(
                f'<text x="{left + 3:.1f}" y="{height - 8}" font-size="9" '
                f'fill="#4a5866">{year}</text>'
            )
    for row, (tag, label) in enumerate(tags):
        y = _TOP + row * _ROW_H
        parts.append(
            f'<text x="{_LABEL_W - 6}" y="{y + _ROW_H / 2 + 3:.1f}" font-size="9.5" '
            f'text-anchor="end" fill="#1d2733">{escape(label)}</text>'
        )
        parts.append(
            f'<line x1="{_LABEL_W}" y1="{y + _ROW_H:.1f}" x2="{_WIDTH - 10}" '
            f'y2="{y + _ROW_H:.1f}" stroke="#eef1f4" stroke-width="0.6"/>'
        )
        in_row = [item for item in items if tag in item.tags]
        for lane, item in enumerate(in_row):
            parts.append(_bar(item, y, lane, len(in_row), x, today))
        no_dates = sum(1 for item in undated if tag in item.tags)
        if no_dates:
            parts.append(
                f'<text x="{_WIDTH - 12}" y="{y + _ROW_H / 2 + 3:.1f}" font-size="8" '
                f'text-anchor="end" fill="#8a5a00">{t["undated_row"].format(count=no_dates)}</text>'
            )
    # The cut-offs: a reference that ended left of a line no longer counts in that window.
    for years, dash in ((3, "4 2"), (5, "1 2")):
        cut = x(today.year - years, today.month)
        parts.append(
            f'<line x1="{cut:.1f}" y1="{_TOP - 8}" x2="{cut:.1f}" y2="{height - _BOTTOM}" '
            f'stroke="#8a5a00" stroke-width="1" stroke-dasharray="{dash}"/>'
            f'<text x="{cut + 2:.1f}" y="{_TOP - 10}" font-size="8.5" fill="#8a5a00">'
            f"{t['cutoff'].format(years=years)}</text>"
        )
    now = x(today.year, today.month)
    parts.append(
        f'<line x1="{now:.1f}" y1="{_TOP - 8}" x2="{now:.1f}" y2="{height - _BOTTOM}" '
        'stroke="#b3261e" stroke-width="1.2"/>'
        f'<text x="{now - 2:.1f}" y="{_TOP - 10}" font-size="8.5" fill="#b3261e" '
        f'text-anchor="end">{escape(t["today"])}</text>'
    )
    legend_y = 12
    legend = list(zip((_COLOURS[3], _COLOURS[5], _COLOURS[0]), t["legend"].split("|"), strict=True))
    left = _LABEL_W
    for colour, text in legend:
        parts.append(
            f'<rect x="{left}" y="{legend_y - 7}" width="10" height="7" fill="{colour}"/>'
            f'<text x="{left + 13}" y="{legend_y}" font-size="8.5" fill="#4a5866">{text}</text>'
        )
        left += 130
    notes = []
    if hidden:
        notes.append(t["hidden"].format(count=hidden))
    if undated:
        notes.append(t["undated"].format(count=len(undated)))
    if notes:
        parts.append(
            f'<text x="{_LABEL_W}" y="{height - 2}" font-size="8" fill="#4a5866">'
            f"{escape(' · '.join(notes))}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(
    item: TimelineItem,
    row_y: float,
    lane: int,
    lanes: int,
    x: object,
    today: dt.date,
) -> str:
    from refsheets.review import add_months

    assert item.start is not None and callable(x)
    end = item.end or (today.year, today.month)
    left = x(*item.start)
    right = max(x(*add_months(dt.date(*end, 1), 1).timetuple()[:2]), left + 3)
    lane_h = (_ROW_H - 6) / max(1, lanes)
    top = row_y + 3 + lane * lane_h
    colour = _COLOURS[_window_now(item, today)]
    return (
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
        f'height="{max(lane_h - 1, 1.5):.1f}" rx="1.5" fill="{colour}">'
        f"<title>{escape(item.mission_id)} — {escape(item.title)}</title></rect>"
    )


def _window_now(item: TimelineItem, today: dt.date) -> int:
    if item.end is None:
        return 3  # still going on
    for years in WINDOWS:
        if (item.end[0], item.end[1]) >= (today.year - years, today.month):
            return years
    return 0
