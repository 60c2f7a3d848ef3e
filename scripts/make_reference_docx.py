"""Generate each layout's Word template, `layouts/<name>/reference.docx`, from brand.yaml.

    python scripts/make_reference_docx.py            # every layout
    python scripts/make_reference_docx.py pop-up     # some layouts

No Word needed: styles, numbering, page, logo (SVG -> PNG with cairosvg, a dev
dependency), footer and embedded fonts all come from the layout. Same inputs, same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from refsheets.errors import RefsheetsError
from refsheets.layouts import LAYOUTS_ROOT, list_layouts, load_layout
from refsheets.output import write_atomic
from refsheets.render.docx_template import TEMPLATE_FILE, build_reference_docx


def make_templates(names: list[str], layouts_root: Path = LAYOUTS_ROOT) -> list[Path]:
    """Write `reference.docx` into each named layout's folder; return the files written."""
    written = []
    for name in names or list_layouts(layouts_root):
        layout = load_layout(name, layouts_root)
        target = layout.path / TEMPLATE_FILE
        write_atomic(target, build_reference_docx(layout))
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Command-line entry: layout names as arguments."""
    try:
        for path in make_templates(argv):
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    except RefsheetsError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(Path.cwd()), file=sys.stderr)
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
