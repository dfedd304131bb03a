"""The application photo: Regulations Art 12, 16 and 17 and Guide VI(I)2 ask for "photos that meet the
requirements" (出入境证件相片照相指引). What an upload can be checked for without a person looking at it:

- ``photo.format``: a JPEG, by its content (never by the file name) and readable as one;
- ``photo.size``: the file's size in bytes within the limits (20-80 KB);
- ``photo.width`` / ``photo.height``: the pixel dimensions within the limits (354-480 × 472-640 px);
- ``photo.ratio``: width : height is 3 : 4, within the tolerance — the relative difference between
  width/height and 3/4 (so 0.02 admits 0.735-0.765).

The limits come from the platform's settings (``cnvisa.http.settings.PhotoSpec``); every limit is inclusive.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, UnidentifiedImageError

from cnvisa.cases.errors import BadInput
from cnvisa.cases.records import sniff

PHOTO_CITATION = "Regulations Art 12, 16, 17; Guide VI(I)2 (出入境证件相片照相指引)"


class PhotoRules(Protocol):
    @property
    def media_type(self) -> str: ...
    @property
    def min_width(self) -> int: ...
    @property
    def max_width(self) -> int: ...
    @property
    def min_height(self) -> int: ...
    @property
    def max_height(self) -> int: ...
    @property
    def ratio(self) -> tuple[int, int]: ...
    @property
    def ratio_tolerance(self) -> float: ...
    @property
    def min_bytes(self) -> int: ...
    @property
    def max_bytes(self) -> int: ...


@dataclass(frozen=True)
class PhotoFault:
    """One rule the photo breaks: ``rule`` is its stable name (``photo.width``), ``message`` says why."""

    rule: str
    message: str


class PhotoRejected(BadInput):
    """The photo breaks one or more rules; ``faults`` lists each, the first is in the message."""

    def __init__(self, faults: list[PhotoFault], field: str = "files.photo") -> None:
        self.faults = faults
        self.rule = faults[0].rule
        super().__init__(field, "; ".join(f"{f.rule}: {f.message}" for f in faults))


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n % 1024 else f"{n // 1024} KB"


def check_photo(content: bytes, spec: PhotoRules, *, uploaded_bytes: int | None = None) -> list[PhotoFault]:
    """Every rule the photo breaks (empty when it passes). ``uploaded_bytes``: the size of the file as the
    applicant chose it, when ``content`` is that file without its metadata (``cnvisa.cases.uploads``): the size
    rule is about the file the applicant made, the pixel rules about the image kept (the same pixels)."""
    faults: list[PhotoFault] = []
    media = sniff(content)
    if media != spec.media_type:
        return [PhotoFault("photo.format", f"the photo must be a JPEG; the content is {media}")]
    size = len(content) if uploaded_bytes is None else uploaded_bytes
    if not spec.min_bytes <= size <= spec.max_bytes:
        faults.append(
            PhotoFault(
                "photo.size",
                f"the file is {size} bytes ({_kb(size)}); it must be {_kb(spec.min_bytes)} to "
                f"{_kb(spec.max_bytes)}",
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as img:
                width, height = img.size
                kind = img.format
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        return [PhotoFault("photo.format", f"the JPEG cannot be read ({type(exc).__name__})"), *faults]
    if kind != "JPEG":
        return [PhotoFault("photo.format", f"the photo must be a JPEG; it reads as {kind}"), *faults]
    if not spec.min_width <= width <= spec.max_width:
        faults.append(
            PhotoFault(
                "photo.width", f"the width is {width} px; it must be {spec.min_width}-{spec.max_width} px"
            )
        )
    if not spec.min_height <= height <= spec.max_height:
        faults.append(
            PhotoFault(
                "photo.height",
                f"the height is {height} px; it must be {spec.min_height}-{spec.max_height} px",
            )
        )
    rw, rh = spec.ratio
    wanted = rw / rh
    actual = width / height if height else 0.0
    if abs(actual - wanted) > spec.ratio_tolerance * wanted:
        faults.append(
            PhotoFault(
                "photo.ratio",
                f"width : height is {width} : {height} ({actual:.3f}); it must be {rw} : {rh} "
                f"({wanted:.3f}, within {spec.ratio_tolerance:.0%})",
            )
        )
    return faults


def require_photo(
    content: bytes, spec: PhotoRules, field: str = "files.photo", *, uploaded_bytes: int | None = None
) -> None:
    """Raise ``PhotoRejected`` (a ``BadInput`` naming the field and the rules) unless the photo passes."""
    faults = check_photo(content, spec, uploaded_bytes=uploaded_bytes)
    if faults:
        raise PhotoRejected(faults, field)
