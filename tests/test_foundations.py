"""Citations, versions, verification (Art 20, 27) and reports (Art 26)."""

from __future__ import annotations

import datetime as dt

import pytest

from cnvisa.law import InvalidInput, NotInForce
from cnvisa.law.categories import visa_category
from cnvisa.law.citations import GUIDE, LAW, REGULATIONS, guide, law, reg
from cnvisa.law.reports import EVENTS, report_event
from cnvisa.law.verification import institution_may_verify, verification_method
from cnvisa.law.versions import REGULATIONS_2013, REGULATIONS_2025, law_version, regulations_version


def test_citation_strings() -> None:
    """Guide II: the basis is the Exit and Entry Administration Law and the Regulations; cited as the README asks."""
    assert reg(13, paragraph=1).cite == "Regulations Art 13 para 1"
    assert reg(6, 7).cite == "Regulations Art 6(7)"
    assert guide("VI(II)5").cite == "Guide VI(II)5"
    assert law(29, paragraph=1).cite == "Exit and Entry Administration Law Art 29 para 1"
    assert (REGULATIONS, LAW, GUIDE) == ("Regulations", "Exit and Entry Administration Law", "Guide")


def test_regulations_versions_by_date() -> None:
    """Regulations Art 39: in force 2013-09-01; Decree 814 text from 2025-10-01."""
    assert regulations_version(dt.date(2013, 9, 1)) is REGULATIONS_2013
    assert regulations_version(dt.date(2025, 9, 30)) is REGULATIONS_2013
    assert regulations_version(dt.date(2025, 10, 1)) is REGULATIONS_2025
    with pytest.raises(NotInForce, match="2013-09-01"):
        regulations_version(dt.date(2013, 8, 31))
    assert law_version(dt.date(2025, 10, 1)).startswith("regulations-2025")


def test_item_numbers_follow_the_text_in_force() -> None:
    """Regulations Art 6: the 2025 revision inserts K as item (6)."""
    z = visa_category("Z", dt.date(2025, 9, 30))
    assert z.art6(dt.date(2025, 9, 30)).cite == "Regulations Art 6(12)"
    assert z.art6(dt.date(2025, 10, 1)).cite == "Regulations Art 6(13)"
    assert visa_category("K", dt.date(2025, 10, 1)).art7(dt.date(2025, 10, 1)).cite == "Regulations Art 7(6)"
    with pytest.raises(NotInForce):
        visa_category("K", dt.date(2025, 9, 30))


def test_verification_methods_and_institutions() -> None:
    """Regulations Art 20 (interview, telephone, on-site) and Regulations Art 27 (finance, education, medical,
    telecommunications)."""
    assert verification_method("interview") == ("Interview", "面谈")
    with pytest.raises(KeyError):
        verification_method("astrology")
    for sector in ("finance", "education", "medical", "telecommunications"):
        assert institution_may_verify(sector)
    assert not institution_may_verify("retail")
    assert institution_may_verify("retail", approved_other=True)


def test_employer_and_school_reports() -> None:
    """Regulations Art 26: items (1) employees, (2) students, (3)-(4) both."""
    assert report_event("resigned", "employee").citation.cite == "Regulations Art 26(1)"
    assert report_event("graduated", "student").citation.cite == "Regulations Art 26(2)"
    assert report_event("died", "student").citation.cite == "Regulations Art 26(4)"
    with pytest.raises(InvalidInput, match="student"):
        report_event("graduated", "employee")
    with pytest.raises(InvalidInput, match="Art 26"):
        report_event("promoted", "employee")
    assert {e.citation.item for e in EVENTS.values()} == {1, 2, 3, 4}
