"""Passport not kept during residence-permit processing (免留存护照).

Sources:
- MPS press conference 2023-08-03 (seed 003 l.15-18): foreigners applying for residence documents
  ("居留证件") are exempted from having the passport kept; aimed at those who work, study, research, invest,
  start businesses and visit family in China, so that they can travel, lodge, pay tax, bank and post with it.
- NIA measures 2024-03-20 (seed 001 l.20, the Chinese governs): "外国人因在华投资创业、工作学习等事由申办居留证件时，
  经公安机关出入境管理部门现场查验后可免于留存护照，按约定时间持本人护照前往发证窗口领取居留证件".
  Three rules follow: (1) residence documents only, for the listed purposes "等"; (2) an on-site check comes
  first ("经…现场查验后"); (3) "可": the office may still keep the passport; (4) collection at the agreed time
  with the applicant's own passport.
- Regulations Art 18 para 3: "公安机关出入境管理机构在受理居留证件申请期间留存申请人护照的，应当出具受理回执，受理回执
  可以作为申请人在境内合法居留的证明" — the receipt is proof of lawful residence while the passport is kept.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.application import RESIDENCE_MATTERS
from cnvisa.law.citations import MPS_2023, NIA_2024, Citation, law, reg
from cnvisa.law.errors import InvalidInput

SEED_001_L20: Final = Citation(
    NIA_2024,
    "seed 001 l.20",
    note="居留证件 applied for to invest, start a business, work or study 等: passport not kept after an on-site "
    "check (可); collected at the agreed time with the applicant's own passport",
)
SEED_003: Final = Citation(
    MPS_2023,
    "seed 003 l.15-18",
    note="foreigners applying for residence certificates exempt from retaining passports: work, study, research, "
    "invest, start businesses, visit family",
)
CITE_RECEIPT_PROOF: Final = reg(18, paragraph=3)

Basis = Literal["named", "etc", "out_of_scope"]

_NAMED_PURPOSES: Final[dict[str, str]] = {
    "work": "work, investment, business start-up and research are work-type residence (seed 001 l.20 投资创业、工作; "
    "seed 003 work, research, invest, start businesses)",
    "study": "study (seed 001 l.20 学习; seed 003 study)",
    "family_reunion": "family visit (seed 003 visit their families)",
    "private_affairs": "family visit: a private-affairs permit is held to visit relatives (探亲) or for other private "
    "matters (Regulations Art 15(4)); seed 003 names visiting family",
}
_ETC_PURPOSES: Final[dict[str, str]] = {
    "journalist": "Reading: the list of seed 001 l.20 ends with 等 (and so on) and the measure is made for residence "
    "documents (申办居留证件) as a class; a resident journalist's permit is a residence document, so it is in scope",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whether the passport-not-kept measure applies to a matter, and why."""

    in_scope: bool
    basis: Basis
    reason: str
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "in_scope": self.in_scope,
            "basis": self.basis,
            "reason": self.reason,
            "citations": [c.as_dict() for c in self.citations],
            "cites": [c.cite for c in self.citations],
        }


def scope(matter: str, permit_type: str | None = None) -> Scope:
    """Is the passport returned after the on-site check (the measure applies) for this matter and permit type?

    Residence-document matters only (Regulations Art 18: residence permits and their extension, replacement,
    reissue; the Art 22 annotation renews the permit): "申办居留证件" in seed 001 l.20 and seed 003 covers every
    application for a residence document. Visas and stay permits are not residence documents: out of scope, the
    receipt of Regulations Art 13 para 3 keeps its own rule. A permit type not given (a replacement or reissue
    names the permit held) is read with the matter: in scope."""
    cites = (SEED_001_L20, SEED_003)
    if matter not in RESIDENCE_MATTERS:
        return Scope(
            False,
            "out_of_scope",
            f"{matter} is not an application for a residence document (居留证件): the measure covers residence "
            "documents only, not visas or stay permits",
            (*cites, reg(13, paragraph=3)),
        )
    if permit_type is None:
        return Scope(True, "named", "an application for a residence document (申办居留证件)", cites)
    if permit_type in _NAMED_PURPOSES:
        return Scope(True, "named", _NAMED_PURPOSES[permit_type], cites)
    if permit_type in _ETC_PURPOSES:
        return Scope(True, "etc", _ETC_PURPOSES[permit_type], cites)
    raise InvalidInput(
        "permit_type",
        f"one of {', '.join(sorted(_NAMED_PURPOSES | _ETC_PURPOSES))}",
        kind="choice",
    )


RetentionReason = Literal[
    "verification_art20",
    "authenticity_doubt",
    "passport_expires_before_validity",
    "applicant_request",
    "other",
]
RETENTION_REASONS: Final[dict[str, tuple[str, tuple[Citation, ...]]]] = {
    "verification_art20": (
        "the reasons for the application are being verified (interview, on-site check, further materials)",
        (reg(20), SEED_001_L20),
    ),
    "authenticity_doubt": (
        "the on-site check left the passport's authenticity or the holder in doubt",
        (SEED_001_L20,),
    ),
    "passport_expires_before_validity": (
        "Reading: the passport expires before the validity requested; the office keeps it rather than cap the "
        "permit without the applicant (brief §4 edge 4)",
        (SEED_001_L20,),
    ),
    "applicant_request": ("the applicant asked the office to keep the passport", (SEED_001_L20,)),
    "other": ("another reason, written in the note", (SEED_001_L20,)),
}
"""Why an office keeps the passport although the measure applies: seed 001 l.20 says 可 (may), a discretion, and a
discretion used is recorded with its reason."""


def retention(kept: bool, in_scope: bool, reason: str | None, note: str | None) -> dict[str, object]:
    """The decision to keep or return the passport. In scope: returning it is the rule; keeping it needs one of
    ``RETENTION_REASONS`` (and a note for ``other``). Out of scope the passport is kept or returned as before,
    and no reason is asked (the measure does not reach visas or stay permits)."""
    if not kept or not in_scope:
        return {"kept": kept, "reason": None, "note": note or None, "citations": []}
    if not reason:
        raise InvalidInput(
            "retention_reason",
            "the measure returns the passport after the on-site check (seed 001 l.20: 可免于留存护照); keeping it "
            f"anyway needs the reason: one of {', '.join(RETENTION_REASONS)}",
            kind="required",
        )
    if reason not in RETENTION_REASONS:
        raise InvalidInput("retention_reason", f"one of {', '.join(RETENTION_REASONS)}", kind="choice")
    if reason == "other" and not (note or "").strip():
        raise InvalidInput("retention_note", "a reason 'other' is written in the note", kind="required")
    text, cites = RETENTION_REASONS[reason]
    return {
        "kept": True,
        "reason": reason,
        "reason_text": text,
        "note": note or None,
        "citations": [c.as_dict() for c in cites],
    }


READING_RECEIPT_PROOF: Final = (
    "Reading (Regulations Art 18 para 3; brief §4 edge 1, open question 1): Art 18 para 3 makes the receipt proof "
    "of lawful residence when the office keeps the passport. When the passport is returned under the measure of "
    "seed 001 l.20 / seed 003, the receipt remains proof of lawful residence until its last valid day. Reason: "
    "the measure is a facilitation (减证便民) and cannot make an applicant worse off; otherwise an applicant whose "
    "visa stay ends during processing (e.g. a Z visa's 30 days, Law Art 30 para 1) would be in China without "
    "proof of lawful stay only because the office returned the passport. The application was accepted (Law Art "
    "30, Regulations Art 18 para 1) and the office decides within the receipt's validity; the passport the "
    "applicant holds shows identity, the receipt the pending application."
)
WARNING_LEAVING_CHINA: Final = (
    "Leaving China while the application is processed: the receipt is not an entry document — it is proof of "
    "lawful residence in China only (Regulations Art 18 para 3) and does not let its holder enter China again "
    "(Law Art 24: entry on a valid passport and visa or other entry document). Whether the application survives "
    "the applicant's departure is not settled (brief §11 question 2): ask the office before travelling."
)


def receipt_proof(passport_kept: bool, in_scope: bool) -> dict[str, object]:
    """What the receipt proves, by who holds the passport: kept → Art 18 para 3 as written; returned under the
    measure → the receipt is still proof of lawful residence (``READING_RECEIPT_PROOF``); returned outside
    the measure (a visa or stay-permit matter) → Art 13 para 3 / 18 para 3 as written: no such proof. The
    warning on leaving China goes with every residence-document receipt."""
    if passport_kept:
        return {
            "passport": "kept",
            "receipt_proves_lawful_residence": True,
            "reading": None,
            "warning": WARNING_LEAVING_CHINA if in_scope else None,
            "cites": [CITE_RECEIPT_PROOF.cite],
        }
    if in_scope:
        return {
            "passport": "returned",
            "receipt_proves_lawful_residence": True,
            "reading": READING_RECEIPT_PROOF,
            "warning": WARNING_LEAVING_CHINA,
            "cites": [CITE_RECEIPT_PROOF.cite, SEED_001_L20.cite, SEED_003.cite, law(30).cite],
        }
    return {
        "passport": "returned",
        "receipt_proves_lawful_residence": False,
        "reading": None,
        "warning": None,
        "cites": [reg(13, paragraph=3).cite, CITE_RECEIPT_PROOF.cite],
    }


HolderField = Literal["surname", "given_names", "birth_date", "nationality"]


def holder_mismatches(
    mrz_fields: dict[str, object], surname: str, given_names: str, birth_date: str, nationality: str
) -> list[str]:
    """The holder fields of a passport's MRZ (ICAO Doc 9303 Part 4) that differ from the person on record: the
    on-site check of seed 001 l.20 ("现场查验") confirms that the passport is the applicant's own ("本人护照")."""

    def norm(value: object) -> str:
        return " ".join(str(value or "").upper().replace("<", " ").replace("-", " ").split())

    out = []
    if norm(mrz_fields.get("surname")) != norm(surname):
        out.append("surname")
    if norm(mrz_fields.get("given_names")) != norm(given_names):
        out.append("given_names")
    if str(mrz_fields.get("birth_date") or "") != birth_date:
        out.append("birth_date")
    if str(mrz_fields.get("nationality") or "") != nationality:
        out.append("nationality")
    return out
