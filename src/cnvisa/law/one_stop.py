"""The one-stop work permit + work-type residence permit (一口受理、并联审批、同时发证) — pure rules.

Sources: NIA at the State Council briefing of 2024-03-20 (seed 001 l.11, l.16); Administrative Licensing Law
(ALL) Art 26 para 2, 32(4), 38, 42, 82; Exit and Entry Administration Law Art 41, 43; Regulations Art 16, 18.

- **Materials.** One material set, each item mapped to the branch or branches that need it (``required_by``
  ⊆ {work_permit, residence_permit}); a material both need is handed in once. Work-permit branch: the Service
  Guide (外国人来华工作许可服务指南（暂行）, 外专发〔2017〕36号, in force 2017-04-01); residence branch: the
  materials of a work-type residence permit (Regulations Art 16 para 1, 16(1), 16 para 2; ``cnvisa.law.materials``).
  Reading (reforms.md §1 "Data model" [A]): the residence branch's ``work_permit`` is satisfied by the sibling
  branch (the work permit granted in the same joint application), not by an upload; the passport, photo and
  health certificate are handed in once for both (Beijing practice, reforms.md §1 [9]).
- **Clocks.** The work-permit branch: ALL Art 42 para 1 (20 days from acceptance, +10 once with the approval of
  the organ's head, the applicant told why), counted in working days (ALL Art 82). Reading: the joint
  application is two licences of two agencies decided in parallel (China keeps two acts and synchronises their
  issue, reforms.md §10), not one licence handled jointly by several departments, so ALL Art 42 para 2
  (45 days, +15, for 统一办理/联合办理/集中办理 of one licence, Art 26 para 2) does not apply; each branch keeps
  its own statutory clock. The residence branch's clock is its receipt (Regulations Art 18 para 1, 15 working
  days). The jurisdiction's **service commitment** is dated data (``data/service_commitments.toml``) and is
  an office's promise, not law; a jurisdiction without one shows none.
- **Guard.** The residence-permit receipt must not end before the work-permit decision is due (reforms.md §1
  "Deadlines"): otherwise the applicant's proof of lawful residence (Regulations Art 18 para 3) would end while
  the decision the residence permit rests on (Regulations Art 16(1)) is still open. See ``receipt_covers``.
- **Join.** A pure function of the two branch decisions (``join_outcome``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal

from cnvisa.law import calendar
from cnvisa.law.acceptance import RESIDENCE_RECEIPT_WORKING_DAYS
from cnvisa.law.citations import Citation, law, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import CATALOGUE

ALL: Final = "Administrative Licensing Law"
"""行政许可法 (2003, amended 2019)."""
SERVICE_GUIDE: Final = "Work Permit Service Guide"
"""外国人来华工作许可服务指南（暂行）, 外专发〔2017〕36号 (2017-03-29, in force 2017-04-01)."""

Branch = Literal["work_permit", "residence_permit"]
WORK_PERMIT: Final = "work_permit"
RESIDENCE_PERMIT: Final = "residence_permit"
BRANCHES: Final = (WORK_PERMIT, RESIDENCE_PERMIT)
CATEGORIES: Final = ("A", "B", "C")
"""外国人来华工作分类标准（试行）: A high-end talent, B professionals, C others."""

STATUTORY_WORKING_DAYS: Final = 20
EXTENSION_WORKING_DAYS: Final = 10


def all_(article: int, paragraph: int | None = None, item: int | None = None) -> Citation:
    return Citation(ALL, str(article), paragraph, item)


def service_guide(section: str) -> Citation:
    return Citation(SERVICE_GUIDE, section)


STATUTORY_CITATIONS: Final = (all_(42, 1), all_(82))
EXTENSION_CITATION: Final = all_(42, 1)
REASONS_CITATION: Final = all_(38, 2)
NOT_ISSUABLE_CITATIONS: Final = (law(41), reg(16, 1))
EMPLOYMENT_RULES: Final = "Employment Rules"
"""外国人在中国就业管理规定 (劳部发〔1996〕29号, amended 2017)."""


@dataclass(frozen=True, slots=True)
class Duty:
    """Something a party is told to do, shown on the joint application — not enforced by cnvisa."""

    code: str
    who: str
    text: str
    text_zh: str
    reading: str
    citations: tuple[Citation, ...]
    secondary: tuple[Citation, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "who": self.who,
            "text": self.text,
            "text_zh": self.text_zh,
            "reading": self.reading,
            "citations": [c.cite for c in self.citations],
            "secondary": [c.cite for c in self.secondary],
            "enforced": False,
        }


EMPLOYER_CANCELS_WORK_PERMIT: Final = Duty(
    "employer_cancel_work_permit",
    "employer",
    "employer to cancel work permit",
    "用人单位应注销外国人工作许可",
    "Reading (reforms.md §1 edge cases [A], §8): the work permit was granted and the residence permit refused — "
    "the work permit stands (another agency's act) and the employer is flagged to cancel it; the foreigner may "
    "not work without a work-type residence permit (Law Art 41, 43). No national deadline is applied (a "
    "10-working-day period is local guidance, reforms.md §8 [S2]). Shown, not enforced.",
    (law(41), law(43)),
    (
        Citation(
            EMPLOYMENT_RULES,
            "24",
            note="secondary: when the employment ends the employer reports it and hands the permit back",
        ),
    ),
)
"""The duty a partial outcome leaves (issue 10 §1: work permit granted and residence permit refused)."""


def duties(join: str) -> tuple[Duty, ...]:
    """The duties a join outcome leaves to be shown (none but after a partial outcome)."""
    return (EMPLOYER_CANCELS_WORK_PERMIT,) if join == "partial" else ()


RECEIPT_CITATIONS: Final = (reg(18, paragraph=1), reg(18, paragraph=3))
NOTICE_CITATIONS: Final = (reg(18, paragraph=2), all_(32, 1, 4))


# -- materials -----------------------------------------------------------------------------------------------

SatisfiedBy = Literal["upload", "sibling_branch"]


@dataclass(frozen=True, slots=True)
class JointMaterial:
    code: str
    en: str
    zh: str
    required_by: frozenset[str]
    satisfied_by: SatisfiedBy
    citations: tuple[Citation, ...]
    kind: str = "material"

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "en": self.en,
            "zh": self.zh,
            "kind": self.kind,
            "required_by": sorted(self.required_by),
            "satisfied_by": self.satisfied_by,
            "citations": [c.cite for c in self.citations],
        }


_BOTH: Final = frozenset(BRANCHES)
_WP: Final = frozenset({WORK_PERMIT})
_RP: Final = frozenset({RESIDENCE_PERMIT})
_GUIDE_MATERIALS = service_guide("申请材料")

WORK_PERMIT_MATERIALS: Final[dict[str, tuple[str, str]]] = {
    "wp_application_form": ("Foreigner's Work Permit application form", "外国人来华工作许可申请表"),
    "employment_contract": ("Employment contract or dispatch letter", "劳动合同或派遣函"),
    "work_experience_proof": ("Proof of work experience", "工作资历证明"),
    "highest_degree_certificate": (
        "Highest degree or diploma certificate (authenticated)",
        "最高学位（学历）证书（经认证）",
    ),
    "criminal_record_certificate": (
        "Certificate of no criminal record (authenticated)",
        "无犯罪记录证明（经认证）",
    ),
    "talent_qualification_proof": (
        "Proof of qualifying as high-end talent (category A)",
        "外国高端人才（A类）相关证明材料",
    ),
    "visa_or_residence_permit": (
        "Current visa or residence permit (applicant in China)",
        "在华签证或居留证件（境内申请）",
    ),
    "previous_employer_cancellation": (
        "Previous employer's work-permit cancellation (change of employer)",
        "原工作单位注销工作许可证明（变更工作单位）",
    ),
}


def _catalogue(code: str) -> tuple[str, str, str]:
    m = CATALOGUE[code]
    return m.en, m.zh, m.kind


def joint_materials(
    *, category: str, validity_days: int, in_china: bool = True, job_changer: bool = False
) -> tuple[JointMaterial, ...]:
    """The one material set of a joint application, in checklist order, each with the branches that need it.

    ``category``: the work-permit category applied for (A, B, C); ``validity_days``: the residence permit's
    requested validity (a health certificate from one year, Regulations Art 16 para 2); ``in_china``: the
    foreigner applies in China (visa or residence permit to show, Service Guide); ``job_changer``: the previous
    employer's cancellation (Service Guide)."""
    if category not in CATEGORIES:
        raise InvalidInput("category", "the work-permit category is A, B or C (外国人来华工作分类标准)")
    if type(validity_days) is not int or validity_days < 1:
        raise InvalidInput("validity_days", "the residence permit's requested validity in days, ≥ 1")
    out: list[JointMaterial] = []

    def both(code: str, *cites: Citation) -> None:
        en, zh, kind = _catalogue(code)
        out.append(JointMaterial(code, en, zh, _BOTH, "upload", (_GUIDE_MATERIALS, *cites), kind))

    def wp(code: str) -> None:
        en, zh = WORK_PERMIT_MATERIALS[code]
        out.append(JointMaterial(code, en, zh, _WP, "upload", (_GUIDE_MATERIALS,)))

    def rp(code: str, cite: Citation, satisfied_by: SatisfiedBy = "upload") -> None:
        en, zh, kind = _catalogue(code)
        out.append(JointMaterial(code, en, zh, _RP, satisfied_by, (cite,), kind))

    both("passport", reg(16, paragraph=1))
    both("photo", reg(16, paragraph=1))
    wp("wp_application_form")
    rp("application_form", reg(16, paragraph=1))
    rp("biometrics", reg(16, paragraph=1))
    wp("employment_contract")
    wp("work_experience_proof")
    wp("highest_degree_certificate")
    wp("criminal_record_certificate")
    if category == "A":
        wp("talent_qualification_proof")
    if in_china:
        wp("visa_or_residence_permit")
    if job_changer:
        wp("previous_employer_cancellation")
    # Regulations Art 16 para 2: a permit valid one year or more (一年以上, Civil Code Art 1259) needs a health
    # certificate; the Service Guide asks for the health check of every work-permit applicant: handed in once.
    if validity_days >= 365:
        both("health_certificate", reg(16, paragraph=2))
    else:
        en, zh, kind = _catalogue("health_certificate")
        out.append(JointMaterial("health_certificate", en, zh, _WP, "upload", (_GUIDE_MATERIALS,), kind))
    rp("work_permit", reg(16, 1), "sibling_branch")
    return tuple(out)


def missing_materials(required: tuple[JointMaterial, ...], provided: frozenset[str] | set[str]) -> list[str]:
    """Every material to hand in that is not handed in, once, in checklist order (ALL Art 32(4); Regulations
    Art 18 para 2): a material both branches need appears once; one the sibling branch satisfies never."""
    return [m.code for m in required if m.satisfied_by == "upload" and m.code not in provided]


def codes_for(branch: str, required: tuple[JointMaterial, ...]) -> list[str]:
    return [m.code for m in required if branch in m.required_by]


# -- clocks ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commitment:
    jurisdiction: str
    name_zh: str
    name_en: str
    region: str
    valid_from: dt.date
    working_days: int
    source: str
    categories: tuple[str, ...] | None = None
    from_note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "jurisdiction": self.jurisdiction,
            "name_en": self.name_en,
            "name_zh": self.name_zh,
            "from": self.valid_from.isoformat(),
            "working_days": self.working_days,
            "categories": list(self.categories) if self.categories else None,
            "source": self.source,
        }


def _load() -> tuple[Commitment, ...]:
    text = resources.files("cnvisa.law").joinpath("data/service_commitments.toml").read_text(encoding="utf-8")
    out = []
    for c in tomllib.loads(text)["commitment"]:
        cats = c.get("categories")
        out.append(
            Commitment(
                c["jurisdiction"],
                c["name_zh"],
                c["name_en"],
                c["region"],
                c["from"],
                int(c["working_days"]),
                c["source"],
                tuple(cats) if cats else None,
                c.get("from_note"),
            )
        )
    return tuple(sorted(out, key=lambda c: c.valid_from, reverse=True))


COMMITMENTS: Final = _load()


def service_commitment(region: str, on: dt.date, category: str) -> Commitment | None:
    """The service commitment of the jurisdiction of an office in ``region`` for a ``category`` application
    accepted ``on``, or None: no commitment is shown where the data has none (none is invented)."""
    if category not in CATEGORIES:
        raise InvalidInput("category", "the work-permit category is A, B or C")
    for code in (region, region[:4] + "00", region[:2] + "0000"):
        for c in COMMITMENTS:  # latest first
            if c.region == code and c.valid_from <= on:
                if c.categories is not None and category not in c.categories:
                    return None
                return c
    return None


@dataclass(frozen=True, slots=True)
class Clocks:
    """The clocks of a joint application accepted on ``accepted_on`` (every date a working day)."""

    accepted_on: dt.date
    receipt_valid_until: dt.date
    statutory_due: dt.date
    extended: bool
    commitment: Commitment | None
    commitment_due: dt.date | None

    @property
    def work_permit_due(self) -> dt.date:
        """When the work-permit decision is due for the guard: the commitment's date where one applies, else the
        statutory date (Reading: the commitment is the period the branch is run on; both extended alike)."""
        return self.commitment_due or self.statutory_due

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted_on": self.accepted_on.isoformat(),
            "receipt_valid_until": self.receipt_valid_until.isoformat(),
            "statutory_due": self.statutory_due.isoformat(),
            "extended": self.extended,
            "service_commitment": self.commitment.as_dict() if self.commitment else None,
            "service_commitment_due": self.commitment_due.isoformat() if self.commitment_due else None,
            "work_permit_due": self.work_permit_due.isoformat(),
            "citations": [c.cite for c in (*STATUTORY_CITATIONS, *RECEIPT_CITATIONS)],
        }


def clocks(accepted_on: dt.date, commitment: Commitment | None, *, extended: bool = False) -> Clocks:
    """Both clocks from the acceptance date (Civil Code Art 201: the day of acceptance is not counted).

    Statutory: ALL Art 42 para 1, 20 working days (ALL Art 82), 30 when extended. Commitment: its working days;
    Reading: an extension (ALL Art 42 para 1) moves the commitment by the same 10 working days — the branch is
    run on the commitment, and the extension is the head of the organ's approval to take 10 more days."""
    extra = EXTENSION_WORKING_DAYS if extended else 0
    statutory = calendar.add_working_days(accepted_on, STATUTORY_WORKING_DAYS + extra)
    due = calendar.add_working_days(accepted_on, commitment.working_days + extra) if commitment else None
    receipt = calendar.add_working_days(accepted_on, RESIDENCE_RECEIPT_WORKING_DAYS)
    return Clocks(accepted_on, receipt, statutory, extended, commitment, due)


@dataclass(frozen=True, slots=True)
class GuardAnswer:
    ok: bool
    detail: str
    citations: tuple[Citation, ...]


def receipt_covers(c: Clocks) -> GuardAnswer:
    """The residence-permit receipt must not end before the work-permit decision is due (reforms.md §1
    "Deadlines" [A]; Regulations Art 18 para 1: the receipt is valid at most 15 working days and cannot be
    prolonged; Art 18 para 3: it is the proof of lawful residence while the passport is kept).

    What happens when it would not (Reading, the service's rule): the joint acceptance is refused (no
    commitment — the statutory 20 working days of ALL Art 42 outrun the 15 of the receipt — or a commitment
    longer than the receipt): the applicant applies for the work permit first and for the residence permit with
    it, the ordinary sequence (Regulations Art 16(1)); and an extension that would take the decision past the
    receipt's end is refused: the authority decides (grants, or refuses with reasons, ALL Art 38) within it."""
    cites = (*RECEIPT_CITATIONS, all_(42, 1), reg(16, 1))
    due = c.work_permit_due
    if due <= c.receipt_valid_until:
        return GuardAnswer(True, "", cites)
    basis = (
        f"the service commitment of {c.commitment.name_en}"
        if c.commitment
        else "the statutory period (no service commitment in this jurisdiction)"
    )
    if c.extended:
        basis += " extended by 10 working days"
    return GuardAnswer(
        False,
        f"the work-permit decision is due on {due.isoformat()} ({basis}), after the residence-permit receipt "
        f"ends on {c.receipt_valid_until.isoformat()}",
        cites,
    )


# -- join ------------------------------------------------------------------------------------------------------

Decision = Literal["pending", "granted", "refused", "withdrawn"]
DECISIONS: Final = ("pending", "granted", "refused", "withdrawn")


@dataclass(frozen=True, slots=True)
class Join:
    outcome: str
    """pending | issue_together | not_issuable | refused_both | partial | withdrawn"""
    waiting_for: tuple[str, ...]
    """The branches whose decision is still open."""
    residence_action: str | None
    """What the residence branch is to do: ``end_not_issuable`` when the work permit was refused and the
    residence branch is still open; None otherwise."""
    citations: tuple[Citation, ...]
    note: str

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "waiting_for": list(self.waiting_for),
            "residence_action": self.residence_action,
            "citations": [c.cite for c in self.citations],
            "note": self.note,
        }


def join_outcome(work_permit: str, residence_permit: str) -> Join:
    """The join of the two branch decisions (each ``pending``, ``granted``, ``refused`` or ``withdrawn``).

    - both granted → ``issue_together``: one transaction issues the residence permit and activates the work
      permit (NIA 2024-03-20, 同时发证);
    - work permit refused → ``not_issuable``: a work-type residence permit cannot be issued without the work
      permit (Law Art 41; Regulations Art 16(1)); the residence branch, if still open, ends as not issuable
      — not a discretionary refusal (no Law Art 36 refusal, no Regulations Art 21 grounds); if it was already
      refused, ``refused_both``;
    - work permit granted, residence permit refused → ``partial``: recorded as such; the work permit stands
      (another agency's act, Reading, reforms.md §1 [A]; open question 5);
    - either withdrawn → ``withdrawn`` (withdrawal ends both);
    - otherwise ``pending``, waiting for the branches still open."""
    for name, value in (("work_permit", work_permit), ("residence_permit", residence_permit)):
        if value not in DECISIONS:
            raise InvalidInput(name, f"one of {', '.join(DECISIONS)}")
    if "withdrawn" in (work_permit, residence_permit):
        return Join("withdrawn", (), None, (), "the application was withdrawn: both branches end")
    if work_permit == "refused":
        if residence_permit == "refused":
            return Join("refused_both", (), None, NOT_ISSUABLE_CITATIONS, "both branches refused")
        action = "end_not_issuable"
        return Join(
            "not_issuable",
            (),
            action,
            NOT_ISSUABLE_CITATIONS,
            "the work permit was refused: the work-type residence permit cannot be issued",
        )
    pairs = ((WORK_PERMIT, work_permit), (RESIDENCE_PERMIT, residence_permit))
    waiting = tuple(b for b, v in pairs if v == "pending")
    if waiting:
        return Join("pending", waiting, None, (), "waiting for " + " and ".join(waiting))
    if residence_permit == "granted":
        return Join("issue_together", (), None, (law(41), reg(16, 1)), "both granted: issue together")
    return Join(
        "partial",
        (),
        None,
        (law(41), law(36)),
        "the work permit was granted and the residence permit refused: recorded; the work permit stands "
        "(another agency's act); the foreigner may not work without a work-type residence permit (Law Art 41)",
    )


def joint_clocks(
    accepted_on: dt.date, region: str, category: str, *, extended: bool = False
) -> dict[str, object]:
    """Both clocks of a joint application accepted ``on`` at an office in ``region`` and the receipt guard,
    as one answer (what the acceptance and the progress page show)."""
    c = clocks(accepted_on, service_commitment(region, accepted_on, category), extended=extended)
    g = receipt_covers(c)
    return {**c.as_dict(), "receipt_covers": g.ok, "guard_detail": g.detail}


def materials_checklist(
    category: str, validity_days: int, in_china: bool = True, job_changer: bool = False
) -> dict[str, object]:
    """The joint checklist as plain data: ``codes`` in checklist order (each material once) and ``materials``
    by code, with the branches that need each."""
    ms = joint_materials(
        category=category, validity_days=validity_days, in_china=in_china, job_changer=job_changer
    )
    return {"codes": [m.code for m in ms], "materials": {m.code: m.as_dict() for m in ms}}
