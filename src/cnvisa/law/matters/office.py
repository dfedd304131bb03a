"""Which office may accept (受理机关), run for every in-country matter a rule binds (``cnvisa.law.office_choice``):
the rule in force on the day, whether the office applied to may accept, and — when it may not — a blocking
problem, since acceptance first asks whether the application lies within the office's responsibilities
(Guide VII(II))."""

from __future__ import annotations

from cnvisa.law import office_choice as oc
from cnvisa.law.matters.record import Assessment


def run(a: Assessment) -> None:
    app = a.app
    held = app.visa.category if app.visa else None
    category = oc.purpose_category(app.matter, app.ground, held, app.requested.category)
    rule = oc.office_rule(app.matter, app.on, category, app.purpose)
    if rule is None:
        return
    region = app.office.region if app.office else None
    level = app.office.level if app.office else None
    ok = oc.may_accept(rule, region, level, app.place_of_stay)
    a.step(
        "office_choice.office_rule",
        rule.citations,
        {
            "matter": app.matter,
            "category": category,
            "purpose": app.purpose,
            "place_of_stay": app.place_of_stay,
            "office": None if app.office is None else {"region": region, "level": level},
        },
        {"scope": rule.scope, "may_accept": ok},
    )
    a.extra["office_choice"] = {
        "scope": rule.scope,
        "category": category,
        "purpose": rule.purpose,
        "since": rule.since.isoformat() if rule.since else None,
        "place_of_stay": app.place_of_stay,
        "office": None if app.office is None else {"region": region, "level": level},
        "may_accept": ok,
        "message": {"en": rule.en, "zh": rule.zh},
        "citations": [c.as_dict() for c in rule.citations],
        "readings": list(rule.readings),
        "readings_zh": list(rule.readings_zh),
    }
    if ok is False:
        where_en = "residence" if rule.scope == "place_of_residence" else "stay"
        where_zh = "居留地" if rule.scope == "place_of_residence" else "停留地"
        a.problem(
            "office_not_competent",
            f"This office's area does not cover the place of {where_en} ({app.place_of_stay}); {rule.en}",
            f"本机关辖区不包括申请人的{where_zh}（{app.place_of_stay}）。{rule.zh}",
            list(rule.citations),
            field="office",
        )
