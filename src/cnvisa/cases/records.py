"""Identifiers, file sniffing and other small record rules of the case core."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from cnvisa.cases.errors import BadInput
from cnvisa.law.documents import check_social_credit_code

MAX_FILE_BYTES = 20 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
ACCEPTED_MEDIA = frozenset({"application/pdf", "image/png", "image/jpeg", "image/tiff", "image/gif"})


def sniff(content: bytes) -> str:
    """Media type from the content's signature — never from the file name the uploader chose."""
    for magic, media in _SIGNATURES:
        if content.startswith(magic):
            return media
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


@dataclass(frozen=True)
class FileIn:
    material_code: str
    filename: str
    content: bytes

    @functools.cached_property
    def sha256(self) -> str:
        """The content's SHA-256, computed once (the idempotency fingerprint and the stored row both need it)."""
        return hashlib.sha256(self.content).hexdigest()

    def checked(self) -> tuple[str, int, str]:
        """(sha256, size, media type); BadInput when empty, too large or not a document or image."""
        if not self.content:
            raise BadInput(f"files[{self.material_code}]", "the file is empty")
        if len(self.content) > MAX_FILE_BYTES:
            raise BadInput(
                f"files[{self.material_code}]", f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"
            )
        media = sniff(self.content)
        if media not in ACCEPTED_MEDIA:
            raise BadInput(
                f"files[{self.material_code}]", "not a PDF or an image (type sniffed from content)"
            )
        return self.sha256, len(self.content), media


_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


def case_number(office_code: str, on: dt.date) -> str:
    """e.g. ``SH01-20251013-7KQ4M2XD``: office, date of creation, 8 random characters (32^8 ≈ 10^12 per
    office and day; the unique constraint turns the vanishing chance of a clash into a retry)."""
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"{office_code}-{on:%Y%m%d}-{suffix}"


def receipt_number(office_code: str, on: dt.date, case_id: int) -> str:
    return f"R{office_code}{on:%y%m%d}{case_id:08d}"


def document_number(kind: str, on: dt.date, holding_id: int) -> str:
    prefix = {"visa": "V", "stay_permit": "T", "residence_permit": "J", "exit_permit": "E"}[kind]
    return f"{prefix}{on:%y}{holding_id:09d}"


def require_uscc(code: str) -> str:
    """Organisations are identified by the unified social credit code (GB 32100-2015 check character)."""
    result = check_social_credit_code(code)
    if not result.valid:
        raise BadInput("uscc", "; ".join(result.errors) or "invalid unified social credit code")
    return code.strip().upper()
