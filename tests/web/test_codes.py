"""Every code field is checked against its table of the law, and no text field takes control characters, at each
entry point (issue 13, defect 13: a stay permit of visa category "ZZ" or "L\\u0000" was stored and accepted)."""

from __future__ import annotations

from typing import Any

import pytest
from test_applicant import EXTENSION, apply_api, problem, signed_in
from test_apply_form_errors import _form
from web_support import Web

BAD = [
    ("visa", "category", "ZZ"),
    ("visa", "category", "L\u0000"),
    ("requested", "category", "Q3"),
    ("requested", "permit_type", "work\u0000"),
]


@pytest.mark.parametrize(("part", "field", "value"), BAD)
def test_the_api_refuses_a_code_outside_its_table(web: Web, part: str, field: str, value: str) -> None:
    c, csrf = signed_in(web, "alice")
    inputs: dict[str, Any] = {**EXTENSION, part: {**EXTENSION.get(part, {}), field: value}}
    r = apply_api(c, csrf, web, key=f"codes-{part}-{field}-{len(value)}", inputs=inputs)
    body = problem(r, 422)
    assert body["field"] == f"inputs.{part}.{field}", body


@pytest.mark.parametrize("value", ["ZZ", "L\u0000", "\u0000L"])
def test_the_application_page_refuses_a_visa_category_outside_the_table(web: Web, value: str) -> None:
    c, post = _form(web)
    bad = c.post("/apply", data={**post, "visa.category": value}, params={"lang": "en"})
    assert bad.status_code == 422 and "visa.category" in bad.text, bad.text[-1500:]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (
            {"residence_permit": {"type": "work", "valid_until": "2026-05-04", "annotations": ["ok\u0000"]}},
            "inputs.residence_permit.annotations",
        ),
        (
            {"foreign_documents": [{"code": "birth_certificate", "language": "en\u0007"}]},
            "inputs.foreign_documents",
        ),
    ],
)
def test_the_api_refuses_control_characters_in_text_fields(
    web: Web, inputs: dict[str, Any], field: str
) -> None:
    c, csrf = signed_in(web, "alice")
    r = apply_api(c, csrf, web, key=f"ctl-{field}", inputs={**EXTENSION, **inputs})
    body = problem(r, 422)
    assert (
        body["field"].removeprefix("application.").startswith(field)
        and "control characters" in body["detail"]
    ), body
