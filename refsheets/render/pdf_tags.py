"""Tagged PDF structure kept whole when pages move between files (PDF/UA-1, PDF/A).

WeasyPrint tags a document it writes (headings, lists, tables, figures with their alt);
but an annex is assembled from cards rendered apart, and a batch of cards is split into
one file per card. Moving a page with pikepdf moves its drawing, not its place in the
structure tree: the tags would be lost, and the result would no longer be accessible.
So these functions move a page's structure along with it: the elements that mark its
content are copied under the target's `Document` element, the page gets a new
`StructParents` key in the target's parent tree, and table header ids are made unique.

Three things of WeasyPrint's tagging are mended on the way:
- the text of page-margin boxes (our footer) is marked with MCIDs whose elements are
  never attached to the tree; it is re-marked as a pagination artifact;
- table header cells carry an `/ID` but the tree has no `/IDTree`, so a cell's
  `/Headers` could not be resolved; the tree gets one, and header cells a `/Scope`;
- every inline box is a Span element of its own, attributes or not: those without
  any give their marked content to their parent (`fold_plain_spans`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from refsheets.errors import RenderError

PDF_UA = "pdf/ua-1"
# PDF/A on request: every variant is also tagged (and claims PDF/UA-1): the 'a' level
# asks for tags, and a 'u'/'b' file loses nothing by having them.
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-2a", "pdf/a-2u", "pdf/a-2b", "pdf/a-3a", "pdf/a-3u", "pdf/a-3b")


def pdfa_part(variant: str) -> tuple[int, str] | None:
    """(part, conformance) of a PDF/A variant ('pdf/a-3u' -> (3, 'U')), None for UA."""
    if not variant.startswith("pdf/a-"):
        return None
    return int(variant[6]), variant[7].upper()


@dataclass
class _Tree:
    """The target's structure: its Document element and parent tree, being built."""

    document: Dictionary
    nums: list[tuple[int, pikepdf.Object]]
    ids: dict[str, Dictionary]


def _struct_root(pdf: Pdf) -> Dictionary | None:
    root = pdf.Root.get("/StructTreeRoot")
    return root if isinstance(root, Dictionary) else None


def _elements(node: object) -> Iterator[Dictionary]:
    """Every structure element under `node` (itself included), depth first, each once:
    a tree that names one node twice, or itself, is walked as the tree it should be
    (a forged card in the cache could, and each repeat multiplied the walk)."""
    stack = [node]
    seen: set[tuple[int, int]] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, Array | Dictionary) and item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        if isinstance(item, Array):
            stack.extend(reversed(list(item)))
        elif isinstance(item, Dictionary) and item.get("/S") is not None:
            yield item
            kids = item.get("/K")
            if isinstance(kids, Array):
                stack.extend(reversed(list(kids)))
            elif isinstance(kids, Dictionary):
                stack.append(kids)


def _number_tree(node: pikepdf.Object) -> dict[int, object]:
    """A number tree (the parent tree) flattened: key -> value. RenderError when it is
    not a tree one could walk at a bounded cost (see `_tree_pairs`)."""
    pairs = _tree_pairs(node, "/Nums", _MAX_PARENT_ENTRIES)
    if pairs is None:
        raise RenderError(
            "a tagged PDF whose parent tree names a node twice, is deeper than 8 levels or "
            f"holds more than {_MAX_PARENT_ENTRIES} entries: not one refsheets wrote"
        )
    return {int(key): value for key, value in pairs}


# The most entries walked in a tagged PDF's trees: a card's /IDTree names its header
# cells; a parent tree has an entry per page and annotation (a batch is 25 cards).
_MAX_IDS = 10_000
_MAX_PARENT_ENTRIES = 100_000


def _tree_pairs(node: object, key: str, most: int) -> list[tuple[Any, Any]] | None:
    """The (key, value) pairs of a name or number tree (`key`: "/Names" or "/Nums"), in
    order; None if it names a node twice (or itself), is deeper than 8, or holds more
    than `most` pairs: a forged file's tree, whose walk could otherwise be made to
    cost without bound (a node named ten times at each of six levels: a million paths
    through 5 KB)."""
    pairs: list[tuple[Any, Any]] = []
    seen: set[tuple[int, int]] = set()

    def walk(node: Dictionary, depth: int) -> bool:
        if depth > 8 or (node.is_indirect and node.objgen in seen):
            return False
        if node.is_indirect:
            seen.add(node.objgen)
        items = node.get(key)
        if isinstance(items, Array):
            if len(pairs) + len(items) // 2 > most:
                return False
            pairs.extend((items[i], items[i + 1]) for i in range(0, len(items) - 1, 2))
        kids = node.get("/Kids", Array())
        if not isinstance(kids, Array):
            return False
        return all(not isinstance(kid, Dictionary) or walk(kid, depth + 1) for kid in kids)

    return pairs if isinstance(node, Dictionary) and walk(node, 0) else None


def mend_weasyprint_tags(pdf: Pdf) -> None:
    """All three repairs of a tree WeasyPrint wrote (`fold_plain_spans`,
    `add_id_tree`, `mark_orphans_as_artifacts`) in one walk of its elements: each
    walk of a card's elements through pikepdf costs about as much as a repair."""
    root = _struct_root(pdf)
    if root is None:
        return
    parents = _number_tree(root.ParentTree)
    walk = _Walk()
    _fold(root, parents, walk.visit)
    _mark_orphans(pdf, parents, walk.attached)
    _set_id_tree(pdf, root, walk.ids)


@dataclass
class _Walk:
    """What one walk of a tree gathers: the elements attached to it, and the ids of
    table header cells (each given its `/Scope` on the way)."""

    attached: set[tuple[int, int]] = field(default_factory=set)
    ids: dict[str, Dictionary] = field(default_factory=dict)

    def visit(self, element: Dictionary) -> None:
        if element.is_indirect:
            self.attached.add(element.objgen)
        ident = element.get("/ID")
        if ident is not None:
            self.ids[str(ident)] = element
        if element.get("/S") == Name.TH:
            attributes = element.get("/A")
            if isinstance(attributes, Dictionary) and "/Scope" not in attributes:
                attributes.Scope = Name.Column


def mark_orphans_as_artifacts(pdf: Pdf) -> None:
    """Re-mark content whose elements are not in the tree (margin boxes) as artifacts."""
    root = _struct_root(pdf)
    if root is None:
        return
    walk = _Walk()
    for element in _elements(root.get("/K")):
        if element.is_indirect:
            walk.attached.add(element.objgen)
    _mark_orphans(pdf, _number_tree(root.ParentTree), walk.attached)


def _mark_orphans(pdf: Pdf, parents: dict[int, object], attached: set[tuple[int, int]]) -> None:
    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        if key is None or int(key) not in parents:
            continue
        entry = parents[int(key)]
        if not isinstance(entry, Array):
            continue
        orphans = {
            i
            for i, element in enumerate(entry)
            if element.is_indirect and element.objgen not in attached
        }
        if not orphans:
            continue
        contents = page.obj.get("/Contents")
        data = (
            _remarked(contents.read_bytes(), orphans)
            if isinstance(contents, pikepdf.Stream)
            else None
        )
        if data is None:
            data = _remarked_parsed(page, orphans)
        page.obj.Contents = pdf.make_stream(data)
        for i in orphans:
            entry[i] = pikepdf.Object.parse(b"null")


# How WeasyPrint opens a marked-content sequence in a page's stream, one token a line
# (its text is written as hex strings and it draws no inline image, so these bytes
# occur nowhere else).
_WEASYPRINT_MARK = re.compile(rb"^/[A-Za-z]+\n<</MCID (\d+)>>\nBDC$", re.MULTILINE)
_ARTIFACT_MARK = b"/Artifact <</Type /Pagination>> BDC"


def _remarked(data: bytes, orphans: set[int]) -> bytes | None:
    """`data` with the marks of `orphans` opened as pagination artifacts instead, found
    in the bytes (parsing and writing back every operator of a page was most of the
    tag repairs' time); None unless each orphan's mark was found exactly once."""
    found: list[int] = []

    def remark(match: re.Match[bytes]) -> bytes:
        mcid = int(match[1])
        if mcid not in orphans:
            return match[0]
        found.append(mcid)
        return _ARTIFACT_MARK

    remarked = _WEASYPRINT_MARK.sub(remark, data)
    return remarked if sorted(found) == sorted(orphans) else None


def _remarked_parsed(page: pikepdf.Page, orphans: set[int]) -> bytes:
    """`_remarked` for a stream written otherwise: every operator parsed and written back."""
    rewritten: list[pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage] = []
    for instruction in pikepdf.parse_content_stream(page):
        operands = instruction.operands
        if (
            isinstance(instruction, pikepdf.ContentStreamInstruction)
            and instruction.operator == pikepdf.Operator("BDC")
            and len(operands) == 2
            and isinstance(operands[1], Dictionary)
            and int(operands[1].get("/MCID", -1)) in orphans
        ):
            rewritten.append(
                pikepdf.ContentStreamInstruction(
                    [Name.Artifact, Dictionary(Type=Name.Pagination)], pikepdf.Operator("BDC")
                )
            )
        else:
            rewritten.append(instruction)
    return pikepdf.unparse_content_stream(rewritten)


# A Span with only these keys says nothing of its own (no /Lang, /ActualText, /Alt):
# its marked content reads the same as its parent's own.
_PLAIN_SPAN_KEYS = frozenset({"/Type", "/S", "/K", "/P", "/Pg"})


def _kids(node: Dictionary) -> list[pikepdf.Object]:
    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_plain_span(element: Dictionary, role: object, kids: list[pikepdf.Object]) -> bool:
    """A Span without attributes whose kids are all marked content (no annotation);
    `role` is its /S, `kids` its kids."""
    return (
        role == Name.Span
        and element.is_indirect
        and set(element.keys()) <= _PLAIN_SPAN_KEYS
        and all(
            isinstance(kid, int) or (isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR)
            for kid in kids
        )
    )


def fold_plain_spans(pdf: Pdf) -> int:
    """Give each Span without attributes' marked content to its parent element, in its
    place; return how many Spans went.

    WeasyPrint tags every inline box as a Span of its own: two thirds of a card's
    structure elements, which say nothing an assistive technology reads (no language,
    no replacement text), and which an annex of 500 cards holds as 46,000 objects (most
    of its memory and of its assembly time). The reading order and every mark's element
    are kept: the parent tree points each folded mark at the element now holding it.
    """
    root = _struct_root(pdf)
    if root is None:
        return 0
    return _fold(root, _number_tree(root.ParentTree), lambda element: None)


def _fold(root: Dictionary, parents: dict[int, object], visit: Callable[[Dictionary], None]) -> int:
    """`fold_plain_spans` of `root`, whose parent tree is `parents`; `visit` is called
    with each element of the tree as it was, before its kids."""
    moved: dict[tuple[int, int], Dictionary] = {}

    def fold(element: Dictionary) -> list[pikepdf.Object]:
        # Returns the element's kids once folded (read once: pikepdf copies an array's
        # items at each read).
        visit(element)
        kids = _kids(element)
        kept: list[pikepdf.Object] = []
        changed = False
        for kid in kids:
            role = kid.get("/S") if isinstance(kid, Dictionary) else None
            if isinstance(kid, Dictionary) and role is not None:
                grandkids = fold(kid)
                if _is_plain_span(kid, role, grandkids):
                    changed = True
                    moved[kid.objgen] = element
                    kept += _marks_under(kid, element, grandkids)
                    continue
            kept.append(kid)
        if changed:
            element.K = Array(kept)
            return kept
        return kids

    for top in _kids(root):
        if isinstance(top, Dictionary) and top.get("/S") is not None:
            fold(top)
    if not moved:
        return 0

    def holder(element: Dictionary) -> Dictionary:
        while element.objgen in moved:  # a Span folded into a Span folded in turn
            element = moved[element.objgen]
        return element

    for entry in parents.values():
        if isinstance(entry, Array):
            for i, element in enumerate(entry):
                if isinstance(element, Dictionary) and element.objgen in moved:
                    entry[i] = holder(element)
    return len(moved)


def _marks_under(
    span: Dictionary, parent: Dictionary, kids: list[pikepdf.Object]
) -> list[pikepdf.Object]:
    """A folded Span's marked content (its `kids`) as kids of `parent`: a bare MCID
    where both are on the same page, else a marked-content reference naming the Span's
    page."""
    page = span.get("/Pg")
    there = parent.get("/Pg")
    same_page = page is None or (there is not None and there.objgen == page.objgen)
    marks: list[pikepdf.Object] = []
    for kid in kids:
        if same_page:
            marks.append(kid)
        elif isinstance(kid, int):
            marks.append(Dictionary(Type=Name.MCR, Pg=page, MCID=kid))
        elif "/Pg" not in kid:
            marks.append(Dictionary({**dict(kid.items()), "/Pg": page}))
        else:
            marks.append(kid)
    return marks


def new_tree(pdf: Pdf) -> _Tree:
    """An empty structure tree in `pdf` (a new document being assembled)."""
    document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    return _Tree(document=document, nums=[], ids={})


def graft_page(tree: _Tree, target: Pdf, source: Pdf, index: int, *, prefix: str) -> None:
    """Append page `index` of `source` to `target`, with its structure.

    Call on a `source` opened for this purpose: its elements are edited before copying.
    `prefix` makes the table header ids unique in the target.
    """
    page = source.pages[index]
    root = _struct_root(source)
    key = page.obj.get("/StructParents")
    if root is None or key is None:
        # An untagged page (an attestation scanned elsewhere): appended as it is.
        target.pages.append(page)
        return
    document = root.K[0] if isinstance(root.K, Array) else root.K
    top = [e for e in document.K if _on_page(e, page)]
    parents = _number_tree(root.ParentTree).get(int(key))
    # A one-page source whose ids its /IDTree lists (a card, as cached): only the
    # tables holding them are walked, in the source, before the copy. Walking every
    # copied element through pikepdf was half of grafting a card (90 of 160 ms for
    # an annex's 200 cards).
    ids = _ids_by_table(root, document, top) if len(source.pages) == 1 else None
    if ids is not None:
        tables = {table.objgen: table for _, table in ids}
        inside = [inner for table in tables.values() for inner in _elements(table)]
        reached = {inner.objgen for inner in inside if inner.is_indirect}
        if all(element.objgen in reached for element, _ in ids):
            for inner in inside:
                _prefix_ids(inner, prefix)
        else:  # an id its table does not hold (its /P and the table's /K disagree)
            ids = None
    for element in top:
        del element["/P"]  # the copy must not drag the source's whole tree along
    target.pages.append(page)
    new_page = target.pages[-1]
    copied = [target.copy_foreign(e) for e in top]
    new_key = len(tree.nums)
    new_page.obj.StructParents = new_key
    entry = _copy(target, source, parents) if isinstance(parents, Array) else Array()
    tree.nums.append((new_key, target.make_indirect(entry)))
    for element in copied:
        element.P = tree.document
        tree.document.K.append(element)
    if ids is not None:
        # pikepdf copies a source's object once per target: an element already copied
        # (with the page, which every copied element's /Pg then points at) comes back
        # as that copy.
        for element, _ in ids:
            tree.ids[str(element.ID)] = cast(Dictionary, target.copy_foreign(element))
        return
    new_page_id = new_page.obj.objgen
    for element in copied:
        # One walk over the copies: each element points at the new page, and its header
        # ids are made unique in the target. (pikepdf's copies already point there,
        # having copied the page first: the check is cheaper than writing each element
        # again.)
        for inner in _elements(element):
            pg = inner.get("/Pg")
            if isinstance(pg, Dictionary) and pg.objgen != new_page_id:
                inner.Pg = new_page.obj
            ident = _prefix_ids(inner, prefix)
            if ident is not None:
                tree.ids[ident] = inner


def _prefix_ids(element: Dictionary, prefix: str) -> str | None:
    """Prefix `element`'s /ID and the ids its /Headers name; its id once prefixed."""
    found = element.get("/ID")
    ident = None if found is None else f"{prefix}{found}"
    if ident is not None and prefix:
        element.ID = pikepdf.String(ident)
    attributes = element.get("/A")
    if prefix and isinstance(attributes, Dictionary) and "/Headers" in attributes:
        headers = attributes.Headers
        attributes.Headers = Array([pikepdf.String(f"{prefix}{h}") for h in headers])
    return ident


def _ids_by_table(
    root: Dictionary, document: pikepdf.Object, top: list[pikepdf.Object]
) -> list[tuple[Dictionary, Dictionary]] | None:
    """Each element the /IDTree of `root` lists, with the (outermost) table it is in;
    None when the tree has no /IDTree, one not walked at a bounded cost, or an element
    with an id not in a table under one of the `top` elements of `document` (then every
    element is walked)."""
    pairs = _tree_pairs(root.get("/IDTree"), "/Names", _MAX_IDS)
    if pairs is None:
        return None
    values = [value for _, value in pairs]
    tops = {element.objgen for element in top}
    found = []
    for element in values:
        if not isinstance(element, Dictionary) or not element.is_indirect:
            return None  # (a direct element is not found again among the copies)
        if element.get("/ID") is None:
            return None
        table, node = None, element
        for _ in range(64):  # a structure tree is shallow; a cycle is not a tree
            if node.get("/S") == Name.Table:
                table = node  # the outermost: a table in a table is walked with it
            parent = node.get("/P")
            if not isinstance(parent, Dictionary):
                return None
            if parent.objgen == document.objgen:
                break
            node = parent
        else:
            return None
        if table is None or node.objgen not in tops:
            return None
        found.append((element, table))
    return found


def _copy(target: Pdf, source: Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    """`obj` of `source` copied into `target` (a direct object is made indirect first)."""
    if not obj.is_indirect:
        obj = source.make_indirect(obj)
    return target.copy_foreign(obj)


def _on_page(element: pikepdf.Object, page: pikepdf.Page) -> bool:
    page_ref = element.get("/Pg")
    if page_ref is None:
        return any(_on_page(e, page) for e in _elements(element) if e is not element)
    return bool(page_ref.objgen == page.obj.objgen)


def tag_whole_page(tree: _Tree, pdf: Pdf, page: pikepdf.Page, alt: str) -> None:
    """Tag an untagged page of `pdf` (already appended) as one figure with `alt`."""
    page.contents_coalesce()
    page.contents_add(pdf.make_stream(b"/Figure <</MCID 0>> BDC\n"), prepend=True)
    page.contents_add(pdf.make_stream(b"\nEMC\n"), prepend=False)
    figure = pdf.make_indirect(
        Dictionary(
            Type=Name.StructElem,
            S=Name.Figure,
            P=tree.document,
            Pg=page.obj,
            K=0,
            Alt=pikepdf.String(alt),
        )
    )
    tree.document.K.append(figure)
    key = len(tree.nums)
    page.obj.StructParents = key
    tree.nums.append((key, pdf.make_indirect(Array([figure]))))


def finish_tree(tree: _Tree, pdf: Pdf) -> None:
    """Install the assembled tree as `pdf`'s structure tree root."""
    nums = Array()
    for key, entry in tree.nums:
        nums.append(key)
        nums.append(entry)
    root = pdf.make_indirect(
        Dictionary(
            Type=Name.StructTreeRoot,
            K=Array([tree.document]),
            ParentTree=pdf.make_indirect(Dictionary(Nums=nums)),
            ParentTreeNextKey=len(tree.nums),
        )
    )
    _set_id_tree(pdf, root, tree.ids)
    tree.document.P = root
    pdf.Root.StructTreeRoot = root


def add_id_tree(pdf: Pdf) -> None:
    """Give a WeasyPrint tree the `/IDTree` its table header ids need, and each header
    cell its `/Scope` (our tables' header cells all head columns: `scope="col"`)."""
    root = _struct_root(pdf)
    if root is None:
        return
    walk = _Walk()
    for element in _elements(root.get("/K")):
        walk.visit(element)
    _set_id_tree(pdf, root, walk.ids)


def _set_id_tree(pdf: Pdf, root: Dictionary, ids: dict[str, Dictionary]) -> None:
    """The tree's /IDTree: each element id (a table header cell's) to its element."""
    if not ids:
        return
    names = Array()
    for ident in sorted(ids):
        names.append(pikepdf.String(ident))
        names.append(ids[ident])
    root.IDTree = pdf.make_indirect(Dictionary(Names=names))


@dataclass(frozen=True)
class DocumentFacts:
    """What an assembled document says about itself (information dictionary and XMP)."""

    title: str
    lang: str
    author: str | None = None
    subject: str = ""
    keywords: str = ""


# Fixed dates: the same inputs give the same bytes.
_PDF_DATE = "D:20000101000000Z"
_XMP_DATE = "2000-01-01T00:00:00Z"


def xmp_packet(facts: DocumentFacts, variant: str) -> bytes:
    """The XMP metadata of an assembled document: title, language, PDF/UA (and PDF/A)
    identification, and the same facts and dates as the document information dictionary."""
    part = pdfa_part(variant)
    pdfa = (
        f' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        f' pdfaid:part="{part[0]}" pdfaid:conformance="{part[1]}"'
        if part
        else ""
    )
    creator = (
        f"<dc:creator><rdf:Seq><rdf:li>{escape(facts.author)}</rdf:li></rdf:Seq></dc:creator>"
        if facts.author
        else ""
    )
    body = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"'
        f"{pdfa}"
        f' xmp:CreateDate="{_XMP_DATE}" xmp:ModifyDate="{_XMP_DATE}"'
        ' xmp:CreatorTool="refsheets" pdf:Producer="refsheets">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(facts.title)}</rdf:li>'
        f"</rdf:Alt></dc:title>{creator}"
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        f"{escape(facts.subject)}</rdf:li></rdf:Alt></dc:description>"
        f"<pdf:Keywords>{escape(facts.keywords)}</pdf:Keywords>"
        f"<dc:language><rdf:Bag><rdf:li>{escape(facts.lang)}</rdf:li></rdf:Bag></dc:language>"
        "</rdf:Description></rdf:RDF>"
    )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{body}</x:xmpmeta>'
        '<?xpacket end="w"?>'
    ).encode()


def declare_accessible(
    pdf: Pdf,
    facts: DocumentFacts,
    *,
    variant: str,
    intents: tuple[Pdf, pikepdf.Object] | None = None,
) -> None:
    """What an assembled tagged document declares: its information dictionary and XMP
    (same facts, fixed dates, the PDF/UA and PDF/A identification), marked, language,
    title shown by the viewer, and the output intent of a PDF/A."""
    info = pdf.trailer.get("/Info")
    if info is None:
        pdf.trailer.Info = pdf.make_indirect(Dictionary())
        info = pdf.trailer.Info
    info.Title = pikepdf.String(facts.title)
    if facts.author:
        info.Author = pikepdf.String(facts.author)
    info.Subject = pikepdf.String(facts.subject)
    info.Keywords = pikepdf.String(facts.keywords)
    info.Producer = pikepdf.String("refsheets")
    info.Creator = pikepdf.String("refsheets")
    info.CreationDate = pikepdf.String(_PDF_DATE)
    info.ModDate = pikepdf.String(_PDF_DATE)
    lang = facts.lang
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    pdf.Root.Lang = pikepdf.String(lang)
    pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    metadata = pdf.make_stream(xmp_packet(facts, variant))
    metadata.Type = Name.Metadata
    metadata.Subtype = Name.XML
    pdf.Root.Metadata = metadata
    if intents is not None and pdfa_part(variant):
        source, value = intents
        pdf.Root.OutputIntents = _copy(pdf, source, value)
