"""Exit without a valid passport (出境手续) — Regulations Art 23."""

from __future__ import annotations

from cnvisa.law.citations import reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import base_materials


def run(a: Assessment) -> None:
    app = a.app
    grounds = {
        "lost": "loss_report",
        "stolen": "loss_report",
        "robbed": "loss_report",
        "damaged": "damaged_document",
        "other": None,
    }
    if app.ground not in grounds:
        raise InvalidInput("ground", f"must be one of {', '.join(grounds)} (Regulations Art 23)")
    base_materials(a, "exit_without_passport")
    doc = grounds[app.ground]
    if doc:
        a.require(need(doc, reg(23)))
    a.require(need("home_mission_cannot_reissue", reg(23)))
    a.step(
        "exit.without_passport",
        [reg(23)],
        {"ground": app.ground},
        "exit formalities from the exit-entry administration where the person stays or resides",
    )
