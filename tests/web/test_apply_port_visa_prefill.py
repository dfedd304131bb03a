"""The apply form of an extension (issue 11 §1): a port visa chosen from the person's documents is marked as one,
so the law's answer applies the port visa's bounds (Law Art 20 para 4: one entry, at most 30 days; Art 29 para 2,
Regulations Art 14 para 1: its extensions total at most the stay it states); any other visa is not marked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cnvisa.law import questionnaire
from cnvisa.law.assess import assess
from cnvisa.web.pages.applicant import _prefill


def _holding(**over: Any) -> dict[str, Any]:
    return {
        "number": "V2025PV0001",
        "kind": "visa",
        "category": "M",
        "entries": "single",
        "entries_used": 1,
        "valid_until": "2025-11-10",
        "stay_days": 30,
        "extended_days": 10,
        "annotations": [{"port_visa": {"port": "yinchuan_hedong_airport", "usable_only_at_port": True}}],
        **over,
    }


def test_a_port_visa_is_prefilled_as_one_and_bounds_the_extension() -> None:
    qs = questionnaire.questions("visa_extension", proxy=False, with_submitter=False)
    values: dict[str, Any] = {"requested.extension_days": "25"}
    _prefill(values, _holding(), qs, "2025-11-10")
    assert values["visa.port_visa"] == "true" and values["visa.stay_days"] == 30
    inputs = questionnaire.build_inputs("visa_extension", values, qs)
    assert inputs["visa"]["port_visa"] is True
    out = assess({"matter": "visa_extension", "on": dt.date(2025, 11, 20), **inputs})
    assert out["max_extension_days"] == 20  # 30 stated, 10 extended already: 20 more at most
    assert out["port_visa_extension_ceiling_days"] == 20
    assert "Exit and Entry Administration Law Art 20 para 4" in str(out["citations"])
    assert "extension_exceeds_maximum" in {p["code"] for p in out["problems"]}


def test_another_visa_is_not_marked_a_port_visa() -> None:
    qs = questionnaire.questions("visa_extension", proxy=False, with_submitter=False)
    values: dict[str, Any] = {"requested.extension_days": "25"}
    _prefill(values, _holding(annotations=[]), qs, "2025-11-10")
    assert "visa.port_visa" not in values
    inputs = questionnaire.build_inputs("visa_extension", values, qs)
    assert "port_visa" not in inputs["visa"]
    out = assess({"matter": "visa_extension", "on": dt.date(2025, 11, 20), **inputs})
    assert "port_visa_extension_ceiling_days" not in out
    assert "Exit and Entry Administration Law Art 20 para 4" not in str(out["citations"])
