"""Private stays (Law Art 39 para 2): the foreigner (本人), the host (留宿人), an agent under a mandate, or the police
of the place of stay for them registers within 24 hours of moving in; a late registration is recorded as late, with
the sanction the law allows shown (Art 76 para 1(6)) and nothing imposed. Moving out closes the stay.

The host online: any person's account registers a guest staying with them from the guest's passport MRZ, without
a mandate — Art 39 para 2 puts the duty on "本人或者留宿人" alike, and the host is the one who knows the guest has
moved in. The host then sees and closes the stays they recorded (as a hotel its guests), and nothing else of the
guest's (their other stays, applications or records)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from cnvisa.cases import audit
from cnvisa.cases.accommodation.base import POLICE, AccommodationBase, area_of
from cnvisa.cases.accommodation.checks import Stay, check_one, person_and_document
from cnvisa.cases.accommodation.views import named, view, with_who
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.workflow import Role
from cnvisa.law import accommodation as rules
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import TravelDocument


class PrivateStays(AccommodationBase):
    async def register_private_stay(self, actor: Actor, person_id: int | None, stay: Stay) -> dict[str, Any]:
        """Law Art 39 para 2: the foreigner (or their agent) online, or the police of the place of stay at the desk
        (a police station's officer, or an exit-entry office's), for a stay in their area only.

        ``person_id`` None: the person is the one the passport's MRZ names, found on record or added from the MRZ
        (as a hotel's guest is) — at a police desk, or online by the guest's host."""
        if actor.role in (Role.APPLICANT, Role.AGENT):
            if person_id is None:  # the host registers a guest by the guest's passport
                if stay.mrz is None:
                    raise BadInput(
                        "mrz", "the guest's passport MRZ lines: you register as their host (留宿人)"
                    )
            elif person_id != actor.person_id and person_id not in actor.represents:
                raise NotFound("no such person among those you act for")
            channel: rules.Channel = "online"
            by = "self" if person_id == actor.person_id else "host"
        elif actor.role in POLICE:
            channel, by = "police_station", "police"
        else:
            raise Forbidden("registered by the foreigner, their host or agent, or at a police station")
        now = self.now()
        c = check_one(stay, now, channel)
        async with self.sessions() as s, s.begin():
            office_id = actor.office_id
            if actor.role in POLICE:
                area = await area_of(s, actor)
                office_id = area.office_id
                if not c["division"].startswith(area.prefix):
                    raise BadInput(
                        "division_code",
                        f"outside this desk's area ({area.prefix}): a stay is registered with the police of the "
                        "place of stay (Law Art 39 para 2)",
                    )
            if person_id is None:
                if c["number"] is None:
                    raise BadInput("mrz", "the passport's two MRZ lines, as read at the desk")
                person_id, _doc = await person_and_document(s, c, now)
                if person_id == actor.person_id:  # a "guest" whose passport is the registrant's own
                    by = "self"
            if c["number"] is None:  # the person's current passport on record
                doc = (
                    await s.execute(
                        select(TravelDocument)
                        .where(TravelDocument.person_id == person_id, TravelDocument.current.is_(True))
                        .order_by(TravelDocument.id.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if doc is None:
                    raise BadInput("mrz", "no passport of this person is on record: give its MRZ lines")
            else:
                doc = (
                    await s.execute(
                        select(TravelDocument).where(
                            TravelDocument.issuing_state == c["issuing_state"],
                            TravelDocument.number == c["number"],
                        )
                    )
                ).scalar_one_or_none()
            if doc is None or doc.person_id != person_id:
                raise BadInput("mrz", "is not a passport on record of this person")
            same = (
                await s.execute(
                    select(Reg).where(
                        Reg.person_id == person_id,
                        Reg.organisation_id.is_(None),
                        Reg.moved_in_at == stay.moved_in_at,
                        Reg.address == c["address"],
                    )
                )
            ).scalar_one_or_none()
            if same is not None:  # sent again (a retry, a double click): the same stay, nothing written
                return {"registration": view(same), "assessment": c["assessed"].as_dict(), "replayed": True}
            reg = self._new(person_id, doc.id, c, stay, now, by, actor)
            s.add(reg)
            await s.flush()
            await audit.append(
                s,
                **caseless_event(
                    actor,
                    now,
                    "accommodation_registered",
                    {"registration": reg.id, "channel": channel},
                    office_id,
                ),
            )
            return {"registration": view(reg), "assessment": c["assessed"].as_dict()}

    async def move_out(self, actor: Actor, registration_id: int, at: dt.datetime) -> dict[str, Any]:
        if at.tzinfo is None:
            raise BadInput("moved_out_at", "an instant with its offset")
        now = self.now()
        async with self.sessions() as s, s.begin():
            reg = await s.get(Reg, registration_id, with_for_update=True)
            mine = False
            if reg is not None and actor.role in (Role.APPLICANT, Role.AGENT):
                mine = (
                    reg.person_id == actor.person_id
                    or reg.person_id in actor.represents
                    or (reg.registered_by == "host" and reg.recorded_by == actor.account_id)  # their guest's
                )
            elif reg is not None and actor.role == Role.HOTEL_STAFF:
                mine = reg.organisation_id is not None and reg.organisation_id == actor.organisation_id
            elif reg is not None and actor.role in POLICE:  # the police of the stay's area
                mine = reg.division_code.startswith((await area_of(s, actor)).prefix)
            if reg is None or not mine:
                raise NotFound("no such registration of yours")
            if reg.moved_out_at is not None:
                raise BadInput("moved_out_at", "the stay is closed already")
            if at > now:
                raise BadInput("moved_out_at", "not in the future")
            self._move_out(reg, at)
            await audit.append(
                s,
                **caseless_event(
                    actor, now, "accommodation_moved_out", {"registration": reg.id}, actor.office_id
                ),
            )
            return {"registration": view(reg)}

    async def of_people(self, actor: Actor) -> list[dict[str, Any]]:
        """The registrations of the foreigner and of those they act for, and the stays of the guests they
        registered as host (with the guest's name and passport, as they gave them), newest first."""
        if actor.role not in (Role.APPLICANT, Role.AGENT):
            raise Forbidden("the foreigner or their agent")
        people = {p for p in (actor.person_id, *actor.represents) if p is not None}
        hosted = (Reg.registered_by == "host") & (Reg.recorded_by == actor.account_id)
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    with_who(select(Reg, hosted.label("hosted")))
                    .where(Reg.person_id.in_(people) | hosted)
                    .order_by(Reg.registered_from.desc(), Reg.id.desc())
                    .limit(200)
                )
            ).all()
            return [named(r) if r.hosted and r[0].person_id not in people else view(r[0]) for r in rows]
