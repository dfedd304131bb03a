"""Administrative division codes (GB/T 2260): six digits — province (2), prefecture (2), county (2).

Only the province level is loaded (``data/divisions.toml``, with its source): a code is accepted when it is six
digits, its province exists and lies where the Exit and Entry Administration Law runs (not Taiwan, Hong Kong or
Macao). Reading: the
prefecture and county levels change yearly and are not loaded, so a well-formed code of a real province is taken
as given — checked against the province table, not the full list.

Pure: no I/O beyond reading the bundled table once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Final

from cnvisa.law.errors import InvalidInput

_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    zh: str
    en: str
    mainland: bool


def _load() -> tuple[str, dict[str, Province]]:
    raw = tomllib.loads(
        resources.files("cnvisa.law").joinpath("data/divisions.toml").read_text(encoding="utf-8")
    )
    provinces = {
        code: Province(code, p["zh"], p["en"], bool(p["mainland"])) for code, p in raw["provinces"].items()
    }
    return str(raw["source"]), provinces


SOURCE, PROVINCES = _load()
MAINLAND: Final = frozenset(c for c, p in PROVINCES.items() if p.mainland)


def check_division(code: object, field: str) -> str:
    """``code`` if it is a division code of the mainland (module docstring); else ``InvalidInput`` on ``field``."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput(field, "a six-digit administrative division code (GB/T 2260)", kind="pattern")
    province = PROVINCES.get(code[:2])
    if province is None:
        raise InvalidInput(field, f"no province has the code {code[:2]} (GB/T 2260)", kind="choice")
    if not province.mainland:
        raise InvalidInput(
            field,
            f"{province.en} ({province.zh}) is outside the mainland, where these rules run",
            kind="choice",
        )
    return code
