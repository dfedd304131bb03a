"""A stored file answered as a download (the API and the pages): the type found by decoding at upload (never the
uploader's claim; anything else as bytes), never rendered in the platform's origin, no sniffing into HTML (ASVS 4.0
V12.5.1, V12.6)."""

from __future__ import annotations

import re

from fastapi.responses import Response

from cnvisa.cases.records import ACCEPTED_MEDIA


def file_answer(media_type: str, filename: str, content: bytes, file_id: int) -> Response:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or f"file-{file_id}"
    return Response(
        content,
        media_type=media_type if media_type in ACCEPTED_MEDIA else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
