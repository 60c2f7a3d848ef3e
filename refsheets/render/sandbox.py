"""Layout templates run in Jinja2's sandbox: a layout is data, never code.

A layout folder can come from anyone who sends a brand (a designer, a partner firm), and
sits beside the library it is used with. Its templates may print the card they are given
and nothing else: the sandbox refuses attribute paths into Python's internals
(`cycler.__init__.__globals__.os.system(…)` runs nothing), and any template error is a
user error naming the template, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from refsheets.errors import RenderError, shorten


def layout_environment(search_path: str | Sequence[str], **options: Any) -> jinja2.Environment:
    """A sandboxed, autoescaping, strict environment over a layout's folders."""
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        **options,
    )


def render_layout_template(env: jinja2.Environment, name: str, what: str, **context: Any) -> str:
    """Render the template `name` of a layout; RenderError when it misbehaves."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.exceptions.SecurityError as exc:
        raise RenderError(
            f"{what}: the layout template {name} tried something a layout may not do "
            f"({shorten(str(exc), 120)}); a layout's templates only print the card they "
            "are given: fix or remove that line"
        ) from None
    except jinja2.TemplateError as exc:
        where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise RenderError(
            f"{what}: the layout template {name}{where} has an error: {shorten(str(exc), 160)}"
        ) from None
