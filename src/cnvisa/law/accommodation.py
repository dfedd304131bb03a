"""Accommodation registration of foreigners (住宿登记, Exit and Entry Administration Law Art 39) — pure rules.

- Art 39 para 1: 外国人在中国境内旅馆住宿的，旅馆应当按照旅馆业治安管理的有关规定为其办理住宿登记，并向所在地公安机关报送外国人
  住宿登记信息 — at a hotel, the hotel registers the guest and reports the registration to the local police. The
  Law gives the report no count of hours: it follows the hotel-industry security rules, which this platform does
  not hold. The count it applies is an **office rule** (``hotel_report_hours``, labelled so), never law.
- Art 39 para 2: 外国人在旅馆以外的其他住所居住或者住宿的，应当在入住后二十四小时内由本人或者留宿人，向居住地的公安机关办理登记
  — elsewhere, the foreigner or the host registers within 24 hours of moving in (``cnvisa.law.obligations.due``:
  counted in hours from the moment of moving in, Civil Code Art 201 para 2).
- Sanctions, shown and never imposed (an officer decides, after the person is heard): Art 76 para 1 item 6 — not
  registering as Art 39 para 2 requires: a warning, and a fine of at most 2,000 yuan may be added; Art 76 para 2 —
  a hotel that does not report a foreign guest's registration as required: a warning; where serious, 1,000 to
  5,000 yuan.

Facts that cannot be true are refused, each naming its field: moving out before moving in; a registration recorded
before the stay it registers began (a hotel registers at check-in, a person after moving in).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, law
from cnvisa.law.errors import InvalidInput
from cnvisa.law.obligations import BEIJING, due

Channel = Literal["hotel", "online", "police_station"]
"""Who recorded the registration: the hotel (para 1); the foreigner or the host online, or a police station's
desk (para 2)."""
CHANNELS: Final[tuple[Channel, ...]] = ("hotel", "online", "police_station")

HOTEL_REPORT_HOURS_DEFAULT: Final = 24
"""Office rule (not law): the hours a hotel's report of a check-in may take before it counts as late. Art 39
para 1 sets no count; a site sets its own (``CNVISA_HOTEL_REPORT_HOURS``)."""

PRIVATE_STAY: Final = law(39, paragraph=2)
HOTEL_STAY: Final = law(39, paragraph=1)
PRIVATE_SANCTION: Final = law(76, item=6, paragraph=1)
HOTEL_SANCTION: Final = law(76, paragraph=2)
EARLIEST_PLAUSIBLE: Final = dt.datetime(2013, 7, 1, tzinfo=dt.UTC)
"""The Exit and Entry Administration Law came into force on 2013-07-01: an earlier stay is not this register's."""


@dataclass(frozen=True, slots=True)
class Sanction:
    """The most the law allows for a late or missing registration — shown to the officer, never imposed."""

    text: str
    max_fine_cny: int
    citation: Citation


@dataclass(frozen=True, slots=True)
class Assessment:
    channel: Channel
    due_at: dt.datetime
    """When the registration (para 2) or the hotel's report (para 1, office rule) was due, Beijing time."""
    basis: Literal["law", "office_rule"]
    on_time: bool
    minutes_late: int
    sanction: Sanction | None
    """For a late registration only."""
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "due_at": self.due_at.isoformat(),
            "basis": self.basis,
            "on_time": self.on_time,
            "minutes_late": self.minutes_late,
            "sanction": None
            if self.sanction is None
            else {
                "text": self.sanction.text,
                "max_fine_cny": self.sanction.max_fine_cny,
                "citation": self.sanction.citation.as_dict(),
            },
            "citations": [c.as_dict() for c in self.citations],
        }


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidInput(field, "an instant with its offset (e.g. 2026-03-01T23:30+08:00)", kind="datetime")
    return value


def check_stay(
    moved_in_at: dt.datetime, registered_at: dt.datetime, moved_out_at: dt.datetime | None = None
) -> None:
    """Refuse facts that cannot be true, all at once, each naming its field."""
    _aware(moved_in_at, "moved_in_at")
    _aware(registered_at, "registered_at")
    errors: list[InvalidInput] = []
    if moved_in_at < EARLIEST_PLAUSIBLE:
        errors.append(InvalidInput("moved_in_at", "on or after 2013-07-01 (Law in force)", kind="datetime"))
    if moved_in_at > registered_at:
        errors.append(
            InvalidInput(
                "moved_in_at",
                "not after the registration: a stay is registered once it has begun (Law Art 39)",
                kind="not_after",
            )
        )
    if moved_out_at is not None:
        _aware(moved_out_at, "moved_out_at")
        if moved_out_at < moved_in_at:
            errors.append(InvalidInput("moved_out_at", "not before moving in", kind="not_before"))
    if errors:
        first, *rest = errors
        raise InvalidInput(first.field, first.message, kind=first.kind, also=rest)


def assess(
    channel: Channel,
    moved_in_at: dt.datetime,
    registered_at: dt.datetime,
    *,
    hotel_report_hours: int = HOTEL_REPORT_HOURS_DEFAULT,
) -> Assessment:
    """Whether a registration was on time: within 24 hours of moving in outside hotels (law), within the office's
    hours of the check-in at a hotel (office rule). Late: the sanction the law allows, for the officer."""
    if channel not in CHANNELS:
        raise InvalidInput("channel", f"one of {', '.join(CHANNELS)}", kind="choice")
    check_stay(moved_in_at, registered_at)
    if channel == "hotel":
        if hotel_report_hours < 1:
            raise InvalidInput("hotel_report_hours", "at least 1 (an office rule)", kind="greater_than_equal")
        due_at = (moved_in_at + dt.timedelta(hours=hotel_report_hours)).astimezone(BEIJING)
        basis: Literal["law", "office_rule"] = "office_rule"
        sanction = Sanction(
            "a warning; where serious, a fine of 1,000 to 5,000 yuan (the hotel)", 5000, HOTEL_SANCTION
        )
        cites: tuple[Citation, ...] = (HOTEL_STAY,)
    else:
        d = due("accommodation_registration", moved_in_at)
        assert d.by_at is not None
        due_at, basis = d.by_at, "law"
        sanction = Sanction(
            "a warning; a fine of at most 2,000 yuan may be added (the foreigner or the host)",
            2000,
            PRIVATE_SANCTION,
        )
        cites = d.citations
    late = max(0, int((registered_at - due_at).total_seconds() // 60))
    on_time = registered_at <= due_at
    return Assessment(
        channel,
        due_at,
        basis,
        on_time,
        0 if on_time else late,
        None if on_time else sanction,
        (*cites, *((sanction.citation,) if not on_time else ())),
    )
