"""The platform's offices that may accept an application, by the law engine's answer on which offices may
(``office_choice`` of ``cnvisa.law.assess``): every office when the nearest office may (NIA 2024-01-11 no. 3),
otherwise those whose area covers the place of stay or residence (Law Art 29 para 1; Regulations Art 10, 11, 16
para 1; the area by the office's level, Guide III). Shown on the checklist "What do I need?"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.law.office_choice import covers
from cnvisa.store.tables import Office


async def accepting_offices(
    sessions: async_sessionmaker[AsyncSession], office_choice: dict[str, Any] | None
) -> list[dict[str, Any]] | None:
    """The offices that may accept, by code; None when the answer names no rule or, bound to a place, the place
    is not known (the list would be every office of the country, which says nothing)."""
    if not office_choice:
        return None
    place = office_choice.get("place_of_stay")
    nearest = office_choice.get("scope") == "nearest"
    if not nearest and not place:
        return None
    async with sessions() as s:
        offices = (await s.execute(select(Office).order_by(Office.code))).scalars().all()
    return [
        {"id": o.id, "code": o.code, "en": o.name_en, "zh": o.name_zh, "region": o.region, "level": o.level}
        for o in offices
        if nearest or covers(o.region, o.level, str(place))
    ]
