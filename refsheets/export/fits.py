"""Fit results cached like cards: `refsheets check` lays out only the cards it has not
seen in this exact shape.

Whether a card fits one page, and at which step, depends on exactly what its PDF depends
on, so a fit result sits in the card cache (`export/cache.py`) beside the cards, keyed
the same way: `card_key` of the whole card object (photos by their bytes) and the
layout's environment digest (its chain, the brand, the fonts, refsheets' code), under
the format "fit" (the step does not depend on the PDF variant: tagging does not move a
line). Entries carry the cache's header and are checked on read like any other: a
damaged one is dropped and the card laid out again. A cached answer is never stale, only
sometimes missing. Exports record the step of every card they render and read it back,
so a card `check` has fitted is laid out once, at its step, and a card an export has
fitted costs `check` nothing.

Nothing here imports WeasyPrint: a check whose answers are all cached lays nothing out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from refsheets.card import Card, Lang, build_card
from refsheets.export.cache import CardCache, card_key, environment_digest
from refsheets.index import key_of
from refsheets.layouts import Layout, load_layout, resolve_layouts_root
from refsheets.library import Library
from refsheets.render import check_fits, default_layout_name
from refsheets.render.fit import FitResult

FIT_FORMAT = "fit"


def fit_key(card: Card, environment: str) -> str:
    """The cache key of `card`'s fit result in a layout whose environment digest
    (`environment_digest`) is `environment`."""
    return card_key(card, environment=environment, fmt=FIT_FORMAT)


def cached_fit(cache: CardCache, key: str) -> FitResult | None:
    """The cached fit result under `key`, or None (a damaged entry counts as none)."""
    data = cache.get(key, FIT_FORMAT)
    if data is None:
        return None
    try:
        return FitResult.from_json(json.loads(data))
    except (ValueError, UnicodeDecodeError):
        return None


def store_fit(cache: CardCache, key: str, result: FitResult) -> None:
    """Keep `result` under `key`; a card that could not be laid out at all is not kept
    (its problem may be a passing one: an unreadable file)."""
    if result.problem is None:
        # The answer is only a saving: a cache that cannot be written (full disk, a
        # read-only folder) costs the next check its time, never this check its result.
        with contextlib.suppress(OSError):
            cache.put(key, FIT_FORMAT, json.dumps(result.to_json(), sort_keys=True).encode())


def check_fits_cached(
    library: Library,
    cache: CardCache | None,
    *,
    lang: Lang = "fr",
    layouts_root: Path | None = None,
    jobs: int | None = None,
) -> tuple[list[FitResult], int]:
    """Every valid mission's fit result, in the library's order, and how many were laid
    out: cached answers are read, the others laid out (in `jobs` processes) and kept.
    With `cache` None every card is laid out and nothing is kept.

    Building each card and digesting it for its key is most of a check whose answers
    are all cached; so the keys themselves are kept too, under a digest of the files
    the cards are built from (`library_state`): an unchanged library reads its keys in
    one entry, then each answer from its own entry, checked as always."""
    root = layouts_root or resolve_layouts_root(library.root)
    layouts: dict[str, tuple[Layout, str]] = {}
    names: dict[str, str] = {}
    # A mission's default layout depends on its entity alone; asking once per entity
    # spares listing the layouts folder once per mission (a cached check's time).
    by_entity: dict[str | None, str] = {}
    for mission_id, mission in library:
        if mission.entity not in by_entity:
            by_entity[mission.entity] = default_layout_name(library, mission_id, root)
        name = names[mission_id] = by_entity[mission.entity]
        if name not in layouts:
            layout = load_layout(name, root)
            layouts[name] = (layout, environment_digest(layout))
    state = None
    known: dict[str, str] = {}
    if cache is not None:
        environments = {name: digest for name, (_, digest) in layouts.items()}
        state = library_state(library, lang, names, environments)
        if state is not None:
            known = _kept_keys(cache, state)
    keys: dict[str, str] = {}
    results: dict[str, FitResult] = {}
    for mission_id, _ in library:
        key = known.get(mission_id)
        if key is None:
            card = build_card(library, mission_id, lang=lang)
            try:
                key = fit_key(card, layouts[names[mission_id]][1])
            except OSError:  # an unreadable photo: laid out, to say so in the card's words
                continue
        keys[mission_id] = key
        hit = cached_fit(cache, key) if cache is not None else None
        # Kept under the card's whole fingerprint, so its id too (checked all the same:
        # a kept key names the answer).
        if hit is not None and hit.mission_id == mission_id:
            results[mission_id] = hit
    missing = [mission_id for mission_id, _ in library if mission_id not in results]
    if missing:
        fresh = check_fits(
            library,
            lang=lang,
            layouts_root=root,
            ids=missing,
            jobs=max(1, jobs or os.cpu_count() or 1),
        )
        for result in fresh:
            results[result.mission_id] = result
            if cache is not None and result.mission_id in keys:
                store_fit(cache, keys[result.mission_id], result)
    if cache is not None and state is not None and keys != known:
        with contextlib.suppress(OSError):  # only a saving, as the answers are
            cache.put(state, KEYS_FORMAT, json.dumps(keys, sort_keys=True).encode())
    return [results[mission_id] for mission_id, _ in library], len(missing)


KEYS_FORMAT = "fitkeys"


def library_state(
    library: Library, lang: Lang, layouts: dict[str, str], environments: dict[str, str]
) -> str | None:
    """A digest of what the library's cards are built from: the language, each mission's
    layout and that layout's environment digest, and by their identity on disk (size,
    modification and change times, inode, device: as the library's index keys its
    entries) the library's own files (tags, entities), each mission's file and its
    photos. None when a mission's file is not a regular file (nothing is kept then)."""
    root = library.root
    items: list[object] = [lang, sorted(environments.items())]
    with contextlib.suppress(OSError):
        items.append(sorted((p.name, key_of(p)) for p in root.iterdir() if p.is_file()))
    for mission_id, mission in library:
        path = library.paths.get(mission_id)
        identity = key_of(path) if path is not None else None
        if identity is None:
            return None
        photos = [(str(photo.path), key_of(root / photo.path)) for photo in mission.photos]
        items.append([mission_id, layouts[mission_id], str(path), identity, photos])
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _kept_keys(cache: CardCache, state: str) -> dict[str, str]:
    """The fit keys kept for the library state `state` (none when absent or damaged)."""
    data = cache.get(state, KEYS_FORMAT)
    if data is None:
        return {}
    try:
        found = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        str(mission_id): key
        for mission_id, key in found.items()
        if isinstance(key, str) and key.isalnum()
    }


def known_steps(cache: CardCache, cards: Sequence[Card], environment: str) -> list[int]:
    """The fit step of each card as cached (0, the first to try, when unknown)."""
    steps = []
    for card in cards:
        hit = cached_fit(cache, fit_key(card, environment))
        steps.append(hit.step if hit is not None and hit.step is not None else 0)
    return steps
