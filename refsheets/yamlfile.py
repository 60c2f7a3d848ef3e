"""Reading YAML files into validated models, with errors that point at a line.

The fast path parses with libyaml (`CSafeLoader`) and validates with pydantic; line
numbers are looked up only for files that have a problem, by composing that file's node
tree once more. Duplicate keys, which PyYAML silently accepts, are caught while
constructing, where the key's position is at hand.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from refsheets.errors import Diagnostic, did_you_mean, shorten
from refsheets.files import UnreadableFile, read_limited

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 1024 * 1024
MAX_EXPANDED_CHARS = 2 * 1024 * 1024
"""The most text a file may hold once its aliases are expanded (a billion-laughs bound)."""
MAX_ERRORS_PER_FILE = 20

# libyaml's parser: PyYAML's wheels ship it, and it parses about ten times faster.
_BaseLoader = yaml.CSafeLoader


class _Refused(yaml.MarkedYAMLError):
    """A construct refsheets refuses; its problem is the whole message."""


class _DuplicateKey(_Refused):
    pass


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):
    """libyaml's parser with a constructor that refuses duplicate keys and merge keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                # A merge key hides where each key comes from (no line to point an error
                # at) and multiplies text like an alias: files say each key themselves.
                raise _Refused(
                    problem="'<<' (a YAML merge key) is not supported; write the keys out "
                    "here instead of merging them from an anchor (&name)",
                    problem_mark=key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                first = seen[key].start_mark
                raise _DuplicateKey(
                    problem=f"the key '{shorten(str(key), 40)}' is given twice "
                    f"(first on line {first.line + 1}); keep only one",
                    problem_mark=key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class _TooLarge(Exception):
    """A document whose text, once its aliases are expanded, passes the bound."""

    def __init__(self, node: yaml.Node, size: int) -> None:
        super().__init__(size)
        self.node = node
        self.size = size

    def diagnostic(self, path: Path) -> Diagnostic:
        mark = self.node.start_mark
        return Diagnostic(
            path,
            f"repeats text through YAML aliases (*name) until it holds over "
            f"{self.size // (1024 * 1024)} MiB of text, more than the "
            f"{MAX_EXPANDED_CHARS // (1024 * 1024)} MiB a file may expand to; "
            "write the text out once instead of repeating an alias",
            mark.line + 1,
            mark.column + 1,
        )


def _load(text: str) -> Any:
    """The data of `text`, refused when its aliases expand it past `MAX_EXPANDED_CHARS`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # without an alias ('*name') nothing is repeated
            _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Raise _TooLarge when the document's text, aliases expanded, passes the bound.

    An alias is the same node object met again, so each node's expanded size is
    computed once (a walk linear in the file, not in its expansion) and without
    recursion (a document may be nested 1,000 levels deep).
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = len(node.value)
            continue
        children = _children(node)
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = sum(sizes[id(child)] for child in children)
    total = sizes[id(root)]
    if total <= MAX_EXPANDED_CHARS:
        return
    # Point at the deepest node that passes the bound on its own: where the repeats are.
    node = root
    while True:
        bigger = [c for c in _children(node) if sizes[id(c)] > MAX_EXPANDED_CHARS]
        if not bigger:
            raise _TooLarge(node, sizes[id(node)])
        node = bigger[0]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


# YAML 1.1 reads these words as booleans: "no" in a list of tags becomes False.
_YAML11_BOOLS = {"y", "n", "yes", "no", "on", "off"}


@dataclass
class Source:
    """A file's text and, once parsed, its data."""

    path: Path
    text: str
    data: Any = None


# What each kind of file starts with, for the messages about an empty or shapeless file.
_FIRST_KEYS = {
    "mission": "title: …, client: …",
    "tender": "name: …, buyer: …, deadline: …",
}


def read_source(path: Path, *, kind: str = "mission") -> tuple[Source | None, list[Diagnostic]]:
    """Read and parse one YAML file; on failure return the diagnostics instead.

    `kind` ("mission", "tender", …) is what the messages call the file.
    """
    first_keys = _FIRST_KEYS.get(kind, "key: value")
    try:
        raw = read_limited(path, MAX_FILE_BYTES)
    except UnreadableFile as exc:
        if exc.too_big:
            return None, [
                Diagnostic(
                    path,
                    f"is over {MAX_FILE_BYTES // 1024} KiB; a {kind} file is at most "
                    f"{MAX_FILE_BYTES // 1024} KiB: move long texts out or split it",
                )
            ]
        return None, [Diagnostic(path, exc.reason)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Diagnostic(
                path,
                f"is not UTF-8 (byte 0x{raw[exc.start]:02x} here); save it as UTF-8 "
                "(in most editors: 'Save with encoding' > UTF-8)",
                line,
                column,
            )
        ]
    try:
        data = _load(text)
    except _TooLarge as exc:
        return None, [exc.diagnostic(path)]
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_diagnostic(path, text, exc)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(path, f"is not valid YAML: {shorten(str(exc), 200)}")]
    except ValueError as exc:  # an impossible date (2019-02-30) fails in the constructor
        return None, [_bad_value_diagnostic(path, text, exc)]
    except RecursionError:  # libyaml stops at 1,000 levels; Python's stack may stop sooner
        return None, [
            Diagnostic(path, "is nested too deeply to be read; a mission file is a few levels deep")
        ]
    if data is None:
        return None, [
            Diagnostic(
                path,
                f"is empty; write the {kind}'s keys ({first_keys}) or delete the file",
                1,
                1,
            )
        ]
    if not isinstance(data, dict):
        return None, [
            Diagnostic(
                path,
                f"holds a {_yaml_type(data)}, not a set of keys; each line should read "
                f"'key: value' ({first_keys})",
                1,
                1,
            )
        ]
    return Source(path, text, data), []


def _bad_value_diagnostic(path: Path, text: str, exc: ValueError) -> Diagnostic:
    """Point at the first date-like scalar that cannot be constructed."""
    loader = yaml.SafeLoader("")
    for node in _scalars(yaml.compose(text, Loader=_BaseLoader)):
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(node)
            except ValueError:
                mark = node.start_mark
                return Diagnostic(
                    path,
                    f"'{shorten(node.value, 30)}' is not a real date ({exc}); "
                    "write a date that exists",
                    mark.line + 1,
                    mark.column + 1,
                )
        elif node.tag == "tag:yaml.org,2002:int":
            try:
                loader.construct_yaml_int(node)
            except ValueError:  # Python refuses to read an integer of over 4,300 digits
                mark = node.start_mark
                return Diagnostic(
                    path,
                    f"'{shorten(node.value, 30)}' is a number of {len(node.value)} digits, "
                    "too long to be an amount, a year or a count; check it",
                    mark.line + 1,
                    mark.column + 1,
                )
    return Diagnostic(path, f"holds a value YAML cannot read: {shorten(str(exc), 120)}")


def _scalars(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def _syntax_diagnostic(path: Path, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "is not valid YAML"
    hint = ""
    line_text = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in problem or "\t" in line_text[: (mark.column + 1) if mark else 0]:
        hint = "; YAML indents with spaces, never tabs: replace the tab with spaces"
    elif "mapping values are not allowed" in problem:
        hint = (
            "; check this line's indentation against the line above, or put a value "
            "that contains ': ' in quotes"
        )
    elif "expected <block end>" in problem or "could not find expected ':'" in problem:
        hint = "; check the indentation of this line and of the one above"
    elif "found unacceptable character" in problem:
        hint = "; remove this control character"
    message = problem if isinstance(exc, _Refused) else f"YAML syntax: {problem}{hint}"
    if mark is None:
        return Diagnostic(path, message)
    return Diagnostic(path, message, mark.line + 1, mark.column + 1)


def _yaml_type(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "yes/no value"
    if isinstance(value, int | float):
        return "number"
    return "single text"


def validate_source(source: Source, model: type[M]) -> tuple[M | None, list[Diagnostic]]:
    """Validate parsed data against `model`; errors point at the offending line."""
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    root = _compose(source.text)
    diagnostics = [_error_diagnostic(source, model, root, err) for err in errors]
    diagnostics.sort(key=lambda d: (d.line or 0, d.column or 0))
    if len(diagnostics) > MAX_ERRORS_PER_FILE:
        extra = len(diagnostics) - MAX_ERRORS_PER_FILE
        diagnostics = diagnostics[:MAX_ERRORS_PER_FILE]
        diagnostics.append(Diagnostic(source.path, f"… and {extra} more problems in this file"))
    return None, diagnostics


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:  # pragma: no cover - the text parsed a moment ago
        return None


def find_node(root: yaml.Node | None, loc: Sequence[int | str]) -> tuple[yaml.Node | None, bool]:
    """The node at `loc`, or the deepest one on the way; True when the key itself is meant."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    node = value_node
                    break
            else:
                return node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, False
            node = node.value[part]
        else:
            return node, False
    return node, True


def key_node(root: yaml.Node | None, loc: Sequence[int | str]) -> yaml.Node | None:
    """The key node of the last mapping key in `loc` (to point at an unknown key)."""
    parent, found = find_node(root, loc[:-1])
    if not found or not isinstance(parent, yaml.MappingNode):
        return None
    for key, _ in parent.value:
        if key.value == str(loc[-1]):
            return key  # type: ignore[no-any-return]
    return None


def _error_diagnostic(
    source: Source, model: type[BaseModel], root: yaml.Node | None, err: Any
) -> Diagnostic:
    loc: tuple[int | str, ...] = tuple(
        part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-"))
    )
    field = _dotted(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        node = key_node(root, loc) or find_node(root, loc)[0]
        allowed = allowed_keys(model, loc[:-1])
        unknown = str(loc[-1])
        hint = did_you_mean(unknown, allowed, listing="allowed keys")
        message = f"unknown key '{shorten(unknown, 40)}'; {hint}"
        return _at(source.path, node, message, field)
    node, found = find_node(root, loc)
    if kind == "missing":
        parent_key = key_node(root, loc[:-1]) if len(loc) > 1 else None
        message = f"'{loc[-1]}' is required here; add it"
        return _at(source.path, parent_key or node, message, field)
    message = _plain_message(err)
    if found and isinstance(node, yaml.ScalarNode) and not node.style:
        message += _yaml_surprise(node.value, err)
    return _at(source.path, node, message, field)


def _plain_message(err: Any) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind in ("string_type", "int_type", "list_type", "dict_type", "model_type"):
        wanted = {
            "string_type": "text",
            "int_type": "a whole number",
            "list_type": "a list ('- item' lines)",
            "dict_type": "a set of 'key: value' lines",
            "model_type": "a set of 'key: value' lines",
        }[kind]
        return f"should be {wanted}, not {_describe(value)}"
    if kind == "int_from_float" or kind == "int_parsing":
        return f"should be a whole number, not {_describe(value)}"
    if kind == "literal_error":
        expected = err["ctx"]["expected"]
        return f"'{shorten(str(value), 40)}' is not allowed; use one of {expected}"
    if kind == "string_too_short":
        return "is empty; write it or remove the key"
    if kind == "less_than":
        bound = f"{err['ctx']['lt']:,}".replace(",", " ")
        return f"should be under {bound}, not {shorten(str(value), 20)}"
    if kind == "greater_than_equal":
        return f"should be at least {err['ctx']['ge']}, not {shorten(str(value), 20)}"
    return shorten(str(err["msg"]), 200)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {shorten(repr(value), 30)}"
    if isinstance(value, str):
        return f"the text '{shorten(value, 40)}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of keys"
    if value is None:
        return "nothing (an empty value)"
    return f"a {type(value).__name__}"


def _yaml_surprise(source_text: str, err: Any) -> str:
    """Explain the YAML 1.1 readings that turn text into something else."""
    value = err.get("input")
    if isinstance(value, bool) and source_text.lower() in _YAML11_BOOLS | {"true", "false"}:
        return (
            f" (YAML reads the bare word {source_text} as a yes/no value; "
            f'write "{source_text}" in quotes)'
        )
    if isinstance(value, float) and re.fullmatch(r"\d{1,3}(\.\d{3})+", source_text):
        digits = source_text.replace(".", "")
        return (
            f" (YAML reads {source_text} as the decimal number {value}, the dot being a "
            f"decimal point; write {digits})"
        )
    if err["type"] == "string_type" and isinstance(value, int | float):
        return (
            f' (YAML read {source_text} as a number; write "{source_text}" in quotes if it is text)'
        )
    return ""


def _at(path: Path, node: yaml.Node | None, message: str, field: str | None) -> Diagnostic:
    if node is None:
        return Diagnostic(path, message, field=field or None)
    mark = node.start_mark
    return Diagnostic(path, message, mark.line + 1, mark.column + 1, field or None)


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys a mapping at `loc` may have, found by walking the model's annotations."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    if get_origin(annotation) is None:
        return None
    return None


def line_of(source: Source, loc: Sequence[int | str]) -> tuple[int | None, int | None]:
    """The 1-based line and column of the value at `loc`, for warnings."""
    node, _ = find_node(_compose(source.text), loc)
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def key_line_of(source: Source, loc: Sequence[int | str]) -> tuple[int | None, int | None]:
    """The 1-based line and column of the key of the value at `loc` (to speak of a whole
    list or mapping), or of the value when it has no key."""
    root = _compose(source.text)
    node = key_node(root, loc) if loc and isinstance(loc[-1], str) else None
    if node is None:
        node, _ = find_node(root, loc)
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def value_lines(source: Source, loc: Sequence[int | str]) -> tuple[int, int] | None:
    """The first and last 1-based lines of the value at `loc` (a block of text spans
    several), or None when the file has no such value."""
    node, found = find_node(_compose(source.text), loc)
    if node is None or not found:
        return None
    last = node.end_mark.line + (1 if node.end_mark.column else 0)
    return node.start_mark.line + 1, max(node.start_mark.line + 1, last)
