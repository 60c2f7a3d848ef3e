"""Attestations (certificates of good performance): checked when the library loads.

An attestation is a PDF appended after its card in a tender's annex. A damaged file, a
file that is not a PDF, or an encrypted one is reported by `check` at the mission's
line, so that it never stops an export at its very end. Reading is bounded like every
other file of the library.
"""

from __future__ import annotations

import io
from pathlib import Path

from refsheets.errors import RefsheetsError
from refsheets.files import UnreadableFile, read_limited

MAX_ATTESTATION_BYTES = 20 * 1024 * 1024
MAX_ATTESTATION_PAGES = 20


def attestation_problem(path: Path) -> str | None:
    """What is wrong with the attestation at `path` (a sentence about it), or None."""
    try:
        read_attestation(path)
    except BadAttestation as exc:
        return str(exc)
    return None


class BadAttestation(RefsheetsError):
    """An attestation that cannot go into an annex; the message says why and what to do."""


def read_attestation(path: Path) -> bytes:
    """The bytes of the attestation at `path`, read once and checked (raises BadAttestation).

    The annex appends exactly the bytes checked here, so a file replaced between `check`
    and the end of an export is caught rather than trusted.
    """
    try:
        data = read_limited(path, MAX_ATTESTATION_BYTES)
    except UnreadableFile as exc:
        if exc.too_big:
            raise BadAttestation(
                f"the attestation {path.name} is over {MAX_ATTESTATION_BYTES // 2**20} MiB; "
                "save a lighter copy (a scan at 150 dpi is enough)"
            ) from None
        raise BadAttestation(f"the attestation {path.name} {exc.reason}") from None
    problem = _problem(data, path.name)
    if problem:
        raise BadAttestation(problem)
    return data


def _problem(data: bytes, name: str) -> str | None:
    if b"%PDF-" not in data[:1024]:
        return f"the attestation {name} is not a PDF; save or scan it as PDF"
    import pikepdf  # only when a mission has an attestation

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                return (
                    f"the attestation {name} is encrypted (protected against changes); "
                    "save an unprotected copy (print it to PDF) and use that"
                )
            pages = len(pdf.pages)
            # qpdf repairs what it can and says so: a repaired file was damaged.
            warnings = pdf.get_warnings()
    except pikepdf.PasswordError:
        return (
            f"the attestation {name} is protected by a password; "
            "save an unprotected copy and use that"
        )
    except pikepdf.PdfError:
        return f"the attestation {name} is a damaged PDF; get the file again"
    if warnings:
        return f"the attestation {name} is a damaged PDF (it was cut short?); get it again"
    if pages == 0:
        return f"the attestation {name} has no page"
    if pages > MAX_ATTESTATION_PAGES:
        return (
            f"the attestation {name} has {pages} pages; an attestation is at most "
            f"{MAX_ATTESTATION_PAGES}: is it the right file?"
        )
    return None
