"""The records each state of a bulk-seeded case implies, as the workflow would have written them: the one-time
notice of a case that is deficient (its reply period still running) or lapsed (run out), the open verification,
the proposed refusal's grounds and proposer, the decision (its deciding officer and its audit event, which
gives the decision its date), and the document an issued case produced (Regulations Art 13, 18, 20, 21;
Guide X). Only the decision's audit event is written: a bulk seed does not replay every command's event."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.records import document_number
from cnvisa.cases.service import NOTICE_REPLY_WORKING_DAYS
from cnvisa.cases.workflow import State
from cnvisa.demo.story import refusal_ground
from cnvisa.law import assess
from cnvisa.law import calendar as workdays

DECIDED = {State.APPROVED, State.REFUSED, State.ISSUED, State.COLLECTED}
ISSUED = {State.ISSUED, State.COLLECTED}
DOCUMENT_KIND = {"stay_permit": "stay_permit", "exit_without_passport": "exit_permit"}


def instant(day: dt.date, minutes: int) -> dt.datetime:
    """``minutes`` after 09:00 Beijing time on ``day``, in UTC (how instants are stored)."""
    return (
        dt.datetime.combine(day, dt.time(9, 0), tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes)
    ).astimezone(dt.UTC)


@dataclass
class Implied:
    """Collects, case by case, the rows a batch of bulk cases implies; ``officers`` are each office's officers
    (by office id), ``next_holding`` the id the next issued document gets."""

    today: dt.date
    officers: dict[int, list[int]]
    next_holding: int
    rng: random.Random
    notices: list[dict[str, Any]] = field(default_factory=list)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    holdings: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    _cache: dict[Any, Any] = field(default_factory=dict)

    def take(self) -> dict[str, list[dict[str, Any]]]:
        out = {"notices": self.notices, "verifications": self.verifications, "holdings": self.holdings,
               "events": self.events}  # fmt: skip
        self.notices, self.verifications, self.holdings, self.events = [], [], [], []
        return out

    def _memo(self, key: Any, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _add_working_days(self, day: dt.date, n: int) -> dt.date:
        return self._memo(("wd", day, n), lambda: workdays.add_working_days(day, n))  # type: ignore[no-any-return]

    def _required(self, matter: str, inputs: dict[str, Any], on: dt.date) -> list[str]:
        """The materials the law asks for the matter (computed once per matter and kind of permit)."""
        kind = (inputs.get("residence_permit") or inputs.get("requested") or {}).get("type")

        def make() -> list[str]:
            result = assess({**inputs, "matter": matter, "on": on.isoformat(), "materials": []})
            return [m["code"] for m in result["required_materials"]]

        return self._memo(("req", matter, kind), make)  # type: ignore[no-any-return]

    def created_on(self, state: State, drawn: dt.date) -> dt.date:
        """The day a case was opened, moved where its state needs it: a draft younger than the retention
        (30 days), a deficient case whose notice's reply period still runs, a lapsed one whose period ran out."""
        if state is State.DRAFT:
            return max(drawn, self.today - dt.timedelta(days=25))
        if state is State.DEFICIENT:
            return max(drawn, self.today - dt.timedelta(days=14))
        if state is State.LAPSED:
            day = min(drawn, self.today - dt.timedelta(days=22))
            while self._add_working_days(day, NOTICE_REPLY_WORKING_DAYS) >= self.today:
                day -= dt.timedelta(days=7)
            return day
        return drawn

    def add(self, row: dict[str, Any], state: State, created: dt.date) -> None:
        """The records ``row`` (a case being inserted, changed here where its state says so) implies."""
        office, cid, matter = row["office_id"], row["id"], row["matter"]
        first, second = self.officers[office][0], self.officers[office][1]
        if state in (State.DEFICIENT, State.LAPSED):
            required = self._required(matter, row["inputs"], created)
            self.notices.append(
                {
                    "case_id": cid,
                    "seq": 1,
                    "items": required[-2:],
                    "issued_at": instant(created, 60 + cid % 300),
                    "issued_by": first,
                    "respond_by": self._add_working_days(created, NOTICE_REPLY_WORKING_DAYS),
                    "required": required,
                }
            )
        if state is State.UNDER_VERIFICATION:
            self.verifications.append({"case_id": cid, "method": "interview"})
        if state in (State.REFUSAL_PROPOSED, State.REFUSED):
            accepted = row["accepted_on"]
            row["refusal_grounds"] = [
                self._memo(("ground", matter), lambda: refusal_ground(matter, accepted))
            ]
            row["refusal_proposed_by"] = first
        if state not in DECIDED:
            return
        decided = min(
            self.today - dt.timedelta(days=1), row["accepted_on"] + dt.timedelta(days=self.rng.randint(1, 4))
        )
        decided = max(decided, row["accepted_on"])
        refused = state is State.REFUSED
        row["decided_by"] = second if refused else first
        self.events.append(
            {
                "at": instant(decided, 120 + cid % 300),
                "actor_account_id": row["decided_by"],
                "role": "officer",
                "office_id": office,
                "case_id": cid,
                "action": "confirm_refusal" if refused else "approve",
                "state_before": "refusal_proposed" if refused else "accepted",
                "state_after": "refused" if refused else "approved",
                "detail": {"grounds": row["refusal_grounds"]} if refused else {"decision": "approve"},
            }
        )
        if state in ISSUED:
            self._document(row, decided)

    def _document(self, row: dict[str, Any], on: dt.date) -> None:
        matter, inputs, hid = row["matter"], row["inputs"], self.next_holding
        self.next_holding += 1
        requested = inputs.get("requested") or {}
        kind = DOCUMENT_KIND.get(matter, "visa" if matter.startswith("visa") else "residence_permit")
        visa = inputs.get("visa") or {}
        category = (
            requested.get("category") or visa.get("category")
            if kind == "visa"
            else requested.get("permit_type") or (inputs.get("residence_permit") or {}).get("type")
            if kind == "residence_permit"
            else None
        )
        days = 15 if kind == "exit_permit" else int(requested.get("validity_days") or 180)
        row["issued_holding_id"] = hid
        self.holdings.append(
            {
                "id": hid,
                "person_id": row["person_id"],
                "kind": kind,
                "number": document_number(kind, on, hid),
                "category": category,
                "entries": visa.get("entries") if kind == "visa" else None,
                "entries_used": 0,
                "valid_from": on,
                "valid_until": on + dt.timedelta(days=days),
                "stay_days": visa.get("stay_days") if kind == "visa" else None,
                "extended_days": int(requested.get("extension_days") or 0),
                "annotations": [],
                "status": "valid",
                "issued_by_case_id": row["id"],
            }
        )
