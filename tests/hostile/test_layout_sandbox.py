"""Threat: a layout folder (a brand sent by a designer or a partner) that runs code.

A layout's `card.html.j2` could reach Python's internals
(`cycler.__init__.__globals__.os.system(…)`) and run anything, and `layouts/` beside
the library is picked up without a word. Templates now render in Jinja2's sandbox: such
a line is a user error naming the template (exit 4) and runs nothing. Brand values that
reach CSS (font names) are validated strictly and quoted, so they cannot inject CSS.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from refsheets.errors import RefsheetsError, RenderError
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.render.sandbox import layout_environment, render_layout_template
from tests.conftest import run_cli

EVIL = "{{ cycler.__init__.__globals__.os.system('touch ' ~ marker) }}"


def _layouts_beside(library: Path, brand: str, template: str | None = None) -> Path:
    """A layouts folder beside `library`: our base, and an 'evil' brand extending it."""
    root = library.parent / "layouts"
    shutil.copytree(LAYOUTS_ROOT / "base", root / "base")
    (root / "evil").mkdir()
    (root / "evil" / "brand.yaml").write_text(brand, encoding="utf-8")
    if template is not None:
        (root / "evil" / "card.html.j2").write_text(template, encoding="utf-8")
    return root


def test_a_template_cannot_run_code(library: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    template = "<html><body>" + EVIL.replace("marker", f"'{marker}'") + "</body></html>"
    _layouts_beside(library, "extends: base\nname: Evil\n", template)
    out = tmp_path / "out"
    result = run_cli(
        ["--library", str(library), "render", "good-a", "--layout", "evil", "--out", str(out)]
    )
    assert result.returncode == 4, result.stderr
    assert "the layout template evil/card.html.j2 tried something a layout may not do" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not marker.exists()
    assert not (out / "good-a.pdf").exists()


def test_the_sandbox_refuses_internals_in_any_layout_template(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "cover.html.j2").write_text(EVIL, encoding="utf-8")
    env = layout_environment(str(tmp_path))
    with pytest.raises(RenderError, match="tried something a layout may not do"):
        render_layout_template(env, "cover.html.j2", "the annex's cover", marker=str(marker))
    assert not marker.exists()


def test_a_broken_template_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "t.html.j2").write_text("{% if %}", encoding="utf-8")
    env = layout_environment(str(tmp_path))
    with pytest.raises(RenderError, match=r"t\.html\.j2 line 1 has an error"):
        render_layout_template(env, "t.html.j2", "the card")


def test_templates_still_autoescape_data(tmp_path: Path) -> None:
    (tmp_path / "t.html.j2").write_text("<p>{{ title }}</p>", encoding="utf-8")
    env = layout_environment(str(tmp_path))
    html = render_layout_template(env, "t.html.j2", "the card", title="<script>x</script>")
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    assert isinstance(env, jinja2.sandbox.SandboxedEnvironment)


@pytest.mark.parametrize(
    "name",
    [
        'Lato"; } body { display: none; } x { a: "',
        "Lato\\",
        "Lato;color:red",
        "Lato\n}",
        "url(http://evil.example/)",
    ],
)
def test_a_font_name_cannot_inject_css(library: Path, name: str) -> None:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    root = _layouts_beside(library, f'extends: base\nname: Evil\nfonts:\n  body: "{escaped}"\n')
    with pytest.raises(RefsheetsError) as caught:
        load_layout("evil", root)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.field) == (4, "fonts.body")
    assert "is not a font family name refsheets accepts" in problem.message


def test_css_values_are_quoted_as_css_strings() -> None:
    from refsheets.render.pdf import css_string

    assert css_string("Source Sans 3") == '"Source Sans 3"'
    assert css_string('a"b;}') == '"a\\22 b\\3b \\7d "'
