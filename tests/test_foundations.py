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

ON = dt.date(2025, 11, 20)
"""A day on which the Regulations (2025), the Law and the Guide all apply."""


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
    assert report_event("resigned", "employee", on=ON).citation.cite == "Regulations Art 26(1)"
    assert report_event("graduated", "student", on=ON).citation.cite == "Regulations Art 26(2)"
    assert report_event("died", "student", on=ON).citation.cite == "Regulations Art 26(4)"
    with pytest.raises(InvalidInput, match="student"):
        report_event("graduated", "employee", on=ON)
    with pytest.raises(InvalidInput, match="Art 26"):
        report_event("promoted", "employee", on=ON)
    assert {e.citation.item for e in EVENTS.values()} == {1, 2, 3, 4}


def test_rules_asked_before_their_instrument_applies_are_not_in_force() -> None:
    """Each rule lookup is asked "as of" a date; before its instrument applied the answer is NotInForce, naming
    the first day and the article (Regulations Art 39: 2013-09-01; the Guide from the NIA's 2018-04-02)."""
    from cnvisa.law.extension import extension_rule
    from cnvisa.law.refusals import check_refusal, grounds_for
    from cnvisa.law.replacement import replacement_row
    from cnvisa.law.residence import permit_materials
    from cnvisa.law.status import check_entry_ban_years, declare_void

    before_guide = dt.date(2018, 4, 1)
    with pytest.raises(NotInForce, match="applies from 2018-04-02 \\(Guide VI\\(II\\)\\)"):
        extension_rule("L", on=before_guide)
    assert extension_rule("L", on=dt.date(2018, 4, 2)).max_days == 30  # type: ignore[union-attr]
    with pytest.raises(NotInForce, match="Guide VI\\(III\\)"):
        replacement_row("F", on=before_guide)
    before_regs = dt.date(2013, 8, 31)
    with pytest.raises(NotInForce, match="2013-09-01 \\(Regulations Art 16\\)"):
        permit_materials("work", None, False, on=before_regs)
    with pytest.raises(NotInForce, match="Regulations Art 26"):
        report_event("resigned", "employee", on=before_regs)
    with pytest.raises(NotInForce, match="Regulations Art 34"):
        declare_void("valid", "damaged_lost_stolen_robbed", on=before_regs)
    with pytest.raises(NotInForce, match="Law Art 62"):
        check_entry_ban_years(3, decided_on=dt.date(2013, 6, 30))
    # refusal grounds: the no-show ground is the Guide's; before the Guide only the Regulations' grounds exist
    assert "guide_vii3_no_show" in {g.code for g in grounds_for("visa_extension", on=ON)}
    assert "guide_vii3_no_show" not in {g.code for g in grounds_for("visa_extension", on=before_guide)}
    early = check_refusal("visa_extension", ["guide_vii3_no_show"], on=before_guide)
    assert not early.valid and "not in force on 2018-04-01" in early.errors[0]
    assert check_refusal("visa_extension", ["reg21_1"], on=before_guide).valid
