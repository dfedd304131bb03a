"""Exit without a valid passport (出境手续) — Regulations Art 23."""

from __future__ import annotations

from cnvisa.law.citations import reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import base_materials
from cnvisa.law.vocabulary import EXIT_GROUNDS, grounds_error


def run(a: Assessment) -> None:
    app = a.app
    if app.ground not in EXIT_GROUNDS:
        raise InvalidInput("ground", grounds_error("exit_without_passport"))
    base_materials(a, "exit_without_passport")
    doc = EXIT_GROUNDS[app.ground]
    if doc:
        a.require(need(doc, reg(23)))
    a.require(need("home_mission_cannot_reissue", reg(23)))
    a.step(
        "exit.without_passport",
        [reg(23)],
        {"ground": app.ground},
        "exit formalities from the exit-entry administration where the person stays or resides",
    )
