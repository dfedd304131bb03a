"""The public contract of cnvisa.law.assess: output keys, no tracebacks on bad input, citations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnvisa.law import InvalidInput, assess
from cnvisa.law.application import json_schema
from cnvisa.law.assess import OUTPUT_KEYS

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_carry_every_output_key_and_citations(path: Path) -> None:
    out = assess(json.loads(path.read_text()))
    for key in OUTPUT_KEYS:
        assert key in out
    assert out["citations"], "every answer carries its citations"
    assert out["trace"]["version"] == 1 and out["trace"]["steps"]
    for step in out["trace"]["steps"]:
        assert {"rule", "citations", "inputs", "result"} <= set(step)
    for p in out["problems"]:
        assert p["message"]["en"] and p["message"]["zh"] and p["citations"]
    for m in out["required_materials"]:
        assert m["label"]["en"] and m["label"]["zh"] and m["citations"]
    json.dumps(out)  # JSON-ready


def test_k_visa_not_in_force_before_2025_10_01() -> None:
    app = {"matter": "visa", "requested": {"category": "K"}}
    before = assess({**app, "on": "2025-09-30"})
    after = assess({**app, "on": "2025-10-01"})
    assert "category_not_in_force" in [p["code"] for p in before["problems"]]
    assert not before["acceptable"]
    assert "category_not_in_force" not in [p["code"] for p in after["problems"]]
    assert "Regulations Art 6(6)" in [c["cite"] for c in after["citations"]]


def test_k_visa_short_term_stay_may_be_extended_under_law_art29() -> None:
    """Guide I, IV: any ordinary-visa holder may apply to extend; Law Art 29 sets the frame; the Guide has no
    K row (it predates the K visa), so no per-category maximum: the cumulative bound alone (Art 14 para 1)."""
    app = {
        "matter": "visa_extension",
        "on": "2025-10-20",
        "entry_date": "2025-10-10",
        "visa": {"category": "K", "entries": "single", "stay_days": 60, "extended_days": 20},
        "materials": ["passport", "application_form", "photo", "k_talent_documents"],
    }
    out = assess(app)
    assert out["acceptable"] is True
    assert out["max_extension_days"] == 40
    assert [p["code"] for p in out["problems"]] == ["no_category_maximum_in_guide"]
    cites = [c["cite"] for c in out["citations"]]
    for cite in (
        "Exit and Entry Administration Law Art 29 para 1",
        "Guide VI(I)",
        "Regulations Art 14 para 1",
    ):
        assert cite in cites
    long_stay = assess({**app, "visa": {**app["visa"], "stay_days": 181}})
    assert "no_extension_for_category" in [p["code"] for p in long_stay["problems"]]


def test_regulations_not_in_force_before_2013_09_01() -> None:
    out = assess({"matter": "visa", "on": "2013-08-31", "requested": {"category": "L"}})
    assert out["acceptable"] is False and out["problems"][0]["code"] == "not_in_force"


@pytest.mark.parametrize(
    ("app", "field"),
    [
        ({"on": "2025-01-01"}, "matter"),
        ({"matter": "visa_extension", "on": "2025-02-30"}, "on"),
        (
            {"matter": "visa_extension", "on": "2025-01-10", "visa": {"category": "L", "stay_days": -1}},
            "visa.stay_days",
        ),
        (
            {"matter": "visa_extension", "on": "2025-01-10", "visa": {"category": "L", "stay_days": 30}},
            "entry_date",
        ),
        (
            {"matter": "visa_replacement", "on": "2025-01-10", "entry_date": "2025-01-01", "ground": "whim"},
            "ground",
        ),
        ({"matter": "visa", "on": "2025-01-10", "visa": {"category": "L"}, "colour": "red"}, "colour"),
        ({"matter": "residence_permit", "on": "2025-01-10"}, "requested.permit_type"),
        ({"matter": "visa", "on": "2025-01-10", "requested": {"category": "ZZ"}}, "requested.category"),
    ],
)
def test_bad_input_names_the_field(app: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        assess(app)
    assert info.value.field == field, str(info.value)


@pytest.mark.parametrize(
    ("patch", "field", "needle"),
    [
        # a number is not a date (pydantic's lax mode would read it as a Unix timestamp)
        ({"on": 1735689600}, "on", "YYYY-MM-DD"),
        ({"on": "2025-01-01T00:00:00"}, "on", "YYYY-MM-DD"),
        ({"on": "20250101"}, "on", "YYYY-MM-DD"),
        ({"on": "2025-W01-3"}, "on", "YYYY-MM-DD"),
        ({"entry_date": 20241220}, "entry_date", "YYYY-MM-DD"),
        # a string, a float or a boolean is not a count of days
        ({"visa": {"category": "L", "stay_days": "30"}}, "visa.stay_days", "integer"),
        ({"visa": {"category": "L", "stay_days": 30.0}}, "visa.stay_days", "integer"),
        ({"visa": {"category": "L", "stay_days": True}}, "visa.stay_days", "integer"),
        # counts that would carry a date past the calendar's end are refused, not an OverflowError
        ({"visa": {"category": "L", "stay_days": 30, "extended_days": 10**12}}, "visa.extended_days", "3660"),
        ({"requested": {"extension_days": 10**12}}, "requested.extension_days", "3660"),
        # "yes" is not true
        ({"applicant": {"good_record": "yes"}}, "applicant.good_record", "boolean"),
        ({"inviter_covers_expenses": 1}, "inviter_covers_expenses", "boolean"),
        # Guide IX7 figures: known rows, whole CNY ≥ 0
        ({"applicant": {"reciprocal_fees": {"zero": -5}}}, "applicant.reciprocal_fees", "≥ 0"),
        ({"applicant": {"reciprocal_fees": {"zero": "160"}}}, "applicant.reciprocal_fees", "≥ 0"),
        ({"applicant": {"reciprocal_fees": {"zer0": 160}}}, "applicant.reciprocal_fees", "Guide IX"),
        ({"applicant": {"reciprocal_fees": "yes"}}, "applicant.reciprocal_fees", "mapping"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(patch: dict[str, Any], field: str, needle: str) -> None:
    app = {
        "matter": "visa_extension",
        "on": "2025-01-01",
        "entry_date": "2024-12-20",
        "visa": {"category": "L", "stay_days": 30},
        **patch,
    }
    with pytest.raises(InvalidInput) as info:
        assess(app)
    assert info.value.field == field, str(info.value)
    assert needle in info.value.message, info.value.message


def test_reciprocal_fee_rows_are_the_guide_ix_rows() -> None:
    from cnvisa.law.application import FEE_ROW_CODES
    from cnvisa.law.fees import TABLES

    for table in TABLES:
        assert set(table.rows) == set(FEE_ROW_CODES)


def test_a_configured_reciprocal_figure_is_used() -> None:
    app = {
        "matter": "visa_extension",
        "on": "2025-01-01",
        "entry_date": "2024-12-20",
        "visa": {"category": "L", "stay_days": 30},
        "applicant": {"reciprocal_fees": {"zero": 185}},
    }
    assert assess(app)["fee_cny"] == 185
    app["applicant"] = {"reciprocal_fees": {"single": 185}}
    assert assess(app)["fee_cny"] is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.text(max_size=12)
    | st.sampled_from(["2025-01-01", "2025-10-01", "L", "Z", "multiple", "lost", "work", "self", "relative"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        [
            "visa",
            "visa_extension",
            "visa_replacement",
            "visa_reissue",
            "stay_permit",
            "residence_permit",
            "residence_permit_extension",
            "residence_permit_replacement",
            "residence_permit_reissue",
            "study_work_annotation",
            "exit_without_passport",
            "port_visa",
        ]
    ),
    st.dates(),
    st.fixed_dictionaries(
        {},
        optional={
            "visa": st.fixed_dictionaries(
                {"category": st.sampled_from(["L", "Z", "K", "S2", "X1", "Q2"])},
                optional={
                    "stay_days": st.integers(1, 400),
                    "extended_days": st.integers(0, 400),
                    "group": st.booleans(),
                    "entries": st.sampled_from(["zero", "single", "double", "multiple"]),
                    "entries_used": st.integers(0, 3),
                    "valid_until": st.dates(),
                },
            ),
            "entry_date": st.dates(),
            "ground": st.sampled_from(
                ["lost", "damaged", "new_passport", "change_of_purpose", "particulars_changed"]
            ),
            "requested": st.fixed_dictionaries(
                {},
                optional={
                    "category": st.sampled_from(["F", "M", "L", "R"]),
                    "entries": st.sampled_from(["single", "multiple"]),
                    "entry_validity_days": st.integers(1, 4000),
                    "stay_days": st.integers(1, 400),
                    "permit_type": st.sampled_from(["work", "study"]),
                    "validity_days": st.integers(1, 3000),
                },
            ),
            "residence_permit": st.fixed_dictionaries(
                {"type": st.sampled_from(["work", "study"]), "valid_until": st.dates()}
            ),
            "port_visa": st.fixed_dictionaries(
                {
                    "port": st.sampled_from(
                        ["yinchuan_hedong_airport", "shanghai_hongqiao_airport", "nowhere"]
                    )
                },
                optional={
                    "arrival_date": st.dates(),
                    "urgent": st.booleans(),
                    "inviter": st.sampled_from(["entity", "chinese_citizen", "travel_agency"]),
                },
            ),
            "purpose": st.sampled_from(
                ["trade", "visit", "family_visit", "humanitarian", "employment", "other"]
            ),
            "materials": st.lists(st.sampled_from(["passport", "photo", "application_form", "itinerary"])),
            "junk": json_values,
        },
    ),
)
def test_never_a_traceback(matter: str, on: Any, rest: dict[str, Any]) -> None:
    """Any input gives either an answer with every key or InvalidInput naming a field — nothing else."""
    app = {"matter": matter, "on": on.isoformat(), **rest}
    for key in ("entry_date",):
        if key in app:
            app[key] = app[key].isoformat()
    if "visa" in app and "valid_until" in app["visa"]:
        app["visa"] = {**app["visa"], "valid_until": app["visa"]["valid_until"].isoformat()}
    if "port_visa" in app and "arrival_date" in app["port_visa"]:
        app["port_visa"] = {**app["port_visa"], "arrival_date": app["port_visa"]["arrival_date"].isoformat()}
    if "residence_permit" in app:
        app["residence_permit"] = {
            **app["residence_permit"],
            "valid_until": app["residence_permit"]["valid_until"].isoformat(),
        }
    try:
        out = assess(app)
    except InvalidInput as exc:
        assert exc.field and exc.message
        return
    assert set(OUTPUT_KEYS) <= set(out)


def test_schema_lists_the_contract_keys() -> None:
    props = json_schema()["properties"]
    for key in (
        "matter",
        "on",
        "accepted_on",
        "applicant",
        "visa",
        "entry_date",
        "ground",
        "purpose",
        "requested",
        "residence_permit",
        "health_certificate_issued_on",
        "submitted_by",
        "inviter_covers_expenses",
        "materials",
    ):
        assert key in props


def test_assessment_is_fast_enough_to_serve() -> None:
    """A sanity bound only (the measured figure is in benchmarks/RESULTS.md): 200 assessments < 2 s."""
    app = json.loads(EXAMPLES[0].read_text())
    t = time.perf_counter()
    for _ in range(200):
        assess(app)
    assert time.perf_counter() - t < 2.0


def _schema_enums(node: Any, path: str = "") -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    if isinstance(node, dict):
        if "enum" in node:
            found[path] = node["enum"]
        for key, sub in node.items():
            found.update(_schema_enums(sub, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            found.update(_schema_enums(sub, f"{path}/{i}"))
    return found


def test_schema_enumerations_are_exactly_the_values_the_rules_accept() -> None:
    """Issue 8 item 6: every enumerated field of ``cnvisa assess --schema`` lists the values of the table the rules
    run on (Regulations Art 6 categories, Art 10/11/17/23 and Guide VI(III)-(IV) grounds, Art 19 submitters,
    the purposes Art 7, 16, 22 and Guide VI(II)9 split on, Guide IX fee rows) — and parsing accepts exactly those."""
    from cnvisa.law import fees, office_choice, port_visa, proxy, reissue, replacement, residence
    from cnvisa.law.application import parse
    from cnvisa.law.assess import HANDLERS
    from cnvisa.law.categories import CATEGORIES
    from cnvisa.law.purposes import PURPOSES
    from cnvisa.law.vocabulary import EXIT_GROUNDS

    grounds = {
        "visa_replacement": list(replacement.GROUNDS),
        "visa_reissue": list(reissue.GROUNDS),
        "residence_permit_replacement": list(residence.RP_REPLACEMENT_GROUNDS),
        "residence_permit_reissue": list(residence.RP_REISSUE_GROUNDS),
        "exit_without_passport": list(EXIT_GROUNDS),
    }
    every_ground = {g for table in grounds.values() for g in table}
    expected: dict[str, set[Any]] = {
        "/properties/matter": set(HANDLERS),
        "/properties/submitted_by": {"self", *proxy.PROXIES},
        "/properties/ground": every_ground | {None},
        "/properties/purpose": set(PURPOSES) | {None},
        "/$defs/Visa/properties/category": set(CATEGORIES),
        "/$defs/Requested/properties/category/anyOf/0": set(CATEGORIES),
        "/$defs/Visa/properties/entries/anyOf/0": set(replacement.ALL_ENTRIES),
        "/$defs/Requested/properties/entries/anyOf/0": set(replacement.ALL_ENTRIES),
        "/$defs/Requested/properties/permit_type/anyOf/0": set(residence.PERMIT_TYPES),
        "/$defs/ResidencePermit/properties/type": set(residence.PERMIT_TYPES),
        "/$defs/ForeignDocument/properties/legalisation": {"none", "consular", "apostille"},
        "/$defs/PortVisaFacts/properties/inviter/anyOf/0": set(port_visa.INVITER_KINDS),
        "/$defs/OfficeFacts/properties/level": set(office_choice.PREFIX),
        "/$defs/Applicant/properties/reciprocal_fees/anyOf/1/propertyNames": {
            row for table in fees.TABLES for row in table.rows
        },
    }
    schema = json_schema()
    enums = _schema_enums(schema)
    for i, (matter, table) in enumerate(grounds.items()):
        expected[f"/allOf/{i}/then/properties/ground"] = set(table) | {None}
        assert schema["allOf"][i]["if"]["properties"]["matter"]["const"] == matter
    assert set(enums) == set(expected), "every enumerated field is checked against its table"
    for path, values in enums.items():
        assert len(values) == len(set(values)) and set(values) == expected[path], path

    base = {"on": "2025-11-20"}
    for matter, table in grounds.items():
        for ground in every_ground:
            if ground in table:
                parse({**base, "matter": matter, "ground": ground})
            else:
                with pytest.raises(InvalidInput) as info:
                    parse({**base, "matter": matter, "ground": ground})
                assert info.value.field == "ground" and "must be one of" in info.value.message
    for purpose in PURPOSES:
        parse({**base, "matter": "visa_extension", "purpose": purpose})
    for field, patch in (
        ("ground", {"ground": "holiday"}),
        ("purpose", {"purpose": "holiday"}),
        ("visa.category", {"visa": {"category": "Y"}}),
        ("requested.category", {"requested": {"category": "Y"}}),
    ):
        with pytest.raises(InvalidInput) as info:
            parse({**base, "matter": "visa_extension", **patch})
        assert info.value.field == field
    for code in CATEGORIES:
        parse({**base, "matter": "visa", "requested": {"category": code}})


_EXT = {
    "matter": "visa_extension",
    "on": "2025-11-20",
    "entry_date": "2025-11-01",
    "visa": {"category": "L", "entries": "single", "valid_until": "2026-01-31", "stay_days": 30},
}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"applicant": {"birth_date": "2025-11-21"}}, "applicant.birth_date"),
        ({"applicant": {"birth_date": "2001-01-01"}, "entry_date": "2000-12-31"}, "entry_date"),
        (
            {"matter": "residence_permit", "health_certificate_issued_on": "2025-11-21"},
            "health_certificate_issued_on",
        ),
        (
            {"matter": "residence_permit_replacement", "ground": "particulars_changed"}
            | {
                "particulars_changed_on": "2025-12-01",
                "residence_permit": {"type": "work", "valid_until": "2026-06-30"},
            },
            "particulars_changed_on",
        ),
        ({"visa": {**_EXT["visa"], "entries_used": 2}}, "visa.entries_used"),
        ({"visa": {**_EXT["visa"], "entries": "zero", "entries_used": 1}}, "visa.entries_used"),
        (
            {
                "applicant": {"birth_date": "2001-01-01"},
                "visa": {**_EXT["visa"], "valid_until": "2000-01-01"},
            },
            "visa.valid_until",
        ),
    ],
)
def test_impossible_facts_are_refused_naming_the_field(patch: dict[str, Any], field: str) -> None:
    """Issue 8 item 4: dates contradicting each other or the day of application, and more entries used than the
    visa grants (Regulations Art 36 para 1(1)), are InvalidInput naming the field — never a silent answer."""
    with pytest.raises(InvalidInput) as info:
        assess({**_EXT, **patch})
    assert info.value.field == field


def test_an_entry_after_the_visa_entry_validity_is_a_blocking_problem() -> None:
    """Regulations Art 36 para 1(2): the visa admits its holder only until 24:00 of its last day of entry validity."""
    late = assess({**_EXT, "visa": {**_EXT["visa"], "valid_until": "2025-10-31"}})
    problem = next(p for p in late["problems"] if p["code"] == "entry_after_entry_validity")
    assert problem["severity"] == "blocking" and problem["field"] == "entry_date"
    assert [c["cite"] for c in problem["citations"]] == ["Regulations Art 36 para 1(2)"]
    on_the_day = assess({**_EXT, "visa": {**_EXT["visa"], "valid_until": "2025-11-01"}})
    assert "entry_after_entry_validity" not in [p["code"] for p in on_the_day["problems"]]
