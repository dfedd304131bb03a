"""The catalogue of application materials and procedures, with their labels in English and Chinese.

A *material* is a document the applicant hands in; a *procedure* is a step the applicant must
complete (appear in person, give fingerprints). Regulations Art 13 para 2 and Art 18 para 2 require
the office to name *both* in the one-time notice (一次性告知 "需要履行的手续和补正的申请材料").
Codes are stable identifiers: stored cases and the one-time notice refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation

Kind = Literal["material", "procedure"]


@dataclass(frozen=True, slots=True)
class Material:
    code: str
    en: str
    zh: str
    kind: Kind = "material"


_M = Material
CATALOGUE: Final[dict[str, Material]] = {
    m.code: m
    for m in (
        # Guide VI(I); Regulations Art 7, 12, 16, 17
        _M(
            "passport",
            "Valid passport or other international travel document",
            "有效护照或者其他国际旅行证件",
        ),
        _M(
            "application_form",
            "Completed Visa/Stay Permit/Residence Permit Application Form",
            "填写完整的《外国人签证证件申请表》",
        ),
        _M(
            "photo",
            "Photo meeting the Guidelines for Travel Documents' Photographs",
            "符合《出入境证件相片照相指引》的照片",
        ),
        _M(
            "appear_in_person",
            "Appear in person at the exit-entry administration",
            "本人到公安机关出入境管理机构办理",
            "procedure",
        ),
        _M(
            "biometrics",
            "Give fingerprints and other biometric information for retention",
            "留存指纹等人体生物识别信息",
            "procedure",
        ),
        # Overseas visa applications, Regulations Art 7
        _M(
            "c_guarantee_or_invitation",
            "Guarantee letter of the foreign transport company or invitation letter of "
            "the relevant entity in China",
            "外国运输公司出具的担保函件或者中国境内有关单位出具的邀请函件",
        ),
        _M(
            "permanent_residence_confirmation",
            "Confirmation form of foreigner's permanent residence status issued by "
            "the Ministry of Public Security",
            "公安部签发的外国人永久居留身份确认表",
        ),
        _M(
            "invitation_letter_inviting_party",
            "Invitation letter from the inviting party in China",
            "中国境内邀请方出具的邀请函件",
        ),
        _M(
            "onward_ticket",
            "Confirmed onward air, train or ship ticket with fixed date and seat to the destination "
            "country or region",
            "前往国家（地区）的已确定日期、座位的联程机（车、船）票",
        ),
        _M(
            "journalist_approval",
            "Approval and application materials under the regulations on foreign permanent "
            "news agencies and foreign journalists",
            "按照中国有关外国常驻新闻机构和外国记者采访的规定履行审批手续并提交的相应申请材料",
        ),
        _M(
            "k_talent_documents",
            "Supporting documents meeting the qualifications for foreign young sci-tech talents",
            "符合外国青年科技人才条件和要求的相关证明材料",
        ),
        _M("itinerary", "Travel plan and itinerary", "旅行计划行程安排等材料"),
        _M(
            "travel_agency_invitation",
            "Invitation letter from the travel agency (group tourism)",
            "旅行社出具的邀请函件（团体旅游）",
        ),
        _M(
            "trade_partner_invitation",
            "Invitation letter from the commercial or trade partner in China",
            "中国境内商业贸易合作方出具的邀请函件",
        ),
        _M(
            "invitation_citizen_or_pr",
            "Invitation letter from a Chinese citizen residing in China or a foreigner "
            "with permanent residence in China",
            "居住在中国境内的中国公民或者具有永久居留资格的外国人出具的邀请函件",
        ),
        _M("family_member_certificate", "Certificate of family member relationship", "家庭成员关系证明"),
        _M(
            "power_of_attorney",
            "Power of attorney and supporting documents (foster care or similar)",
            "委托书等证明材料（寄养等）",
        ),
        _M(
            "talent_documents",
            "Supporting documents meeting the criteria for foreign high-level or urgently needed "
            "specialised talents",
            "符合外国高层次人才和急需紧缺专门人才引进条件和要求的相关证明材料",
        ),
        _M(
            "invitation_foreigner_in_china",
            "Invitation letter from the foreigner staying or residing in China for "
            "work, study or other reasons",
            "因工作、学习等事由在中国境内停留居留的外国人出具的邀请函件",
        ),
        _M(
            "kinship_proof",
            "Proof or statement of family relationship (Guide XII(II))",
            "家庭成员关系证明或者声明",
        ),
        _M(
            "private_affairs_documents",
            "Supporting documents for handling private affairs in China",
            "入境处理私人事务所需的证明材料",
        ),
        _M("admission_notice", "Admission notice of the admitting institution", "招收单位出具的录取通知书"),
        _M(
            "study_competent_authority_document",
            "Supporting document of the competent authority (X1)",
            "主管部门出具的证明文件（X1）",
        ),
        _M(
            "work_permit",
            "Work permit or other supporting documents for working in China",
            "工作许可等证明材料",
        ),
        # Visa extension, Guide VI(II)
        _M(
            "letter_transport_authority",
            "Certification letter from the competent authority of a people's government "
            "above county level, or from the local civil aviation, railway, highway or port transport company",
            "县级以上人民政府主管部门或者当地民航、铁路、公路、港口运输企业出具的证明函件",
        ),
        _M(
            "letter_inviting_or_receiving_entity",
            "Certification letter from the entity inviting or receiving the applicant",
            "邀请或者接待单位出具的证明函件",
        ),
        _M(
            "letter_receiving_entity",
            "Certification letter from the entity receiving the applicant",
            "接待单位出具的证明函件",
        ),
        _M(
            "letter_provincial_foreign_affairs",
            "Certification letter from the foreign affairs authority of the provincial people's government",
            "省级人民政府外事部门出具的证明函件",
        ),
        _M(
            "letter_travel_agency",
            "Certification letter from the travel agency (group tourists)",
            "旅行社出具的证明函件（团体旅游）",
        ),
        _M(
            "letter_inviting_or_receiving_party",
            "Certification letter from the entity or individual inviting or receiving the applicant",
            "邀请或者接待单位、个人出具的证明函件",
        ),
        _M("letter_person_visited", "Letter from the individual to be visited", "被探望人出具的函件"),
        _M(
            "identity_document_person_visited",
            "Identity document of the individual to be visited (Guide XII(IV))",
            "被探望人的身份证明",
        ),
        _M(
            "residence_permit_person_visited",
            "Residence permit of the individual to be visited",
            "被探望人的居留证件",
        ),
        _M(
            "talent_confirmation",
            "Materials confirming status as foreign high-level or urgently needed talent",
            "外国高层次人才或者急需紧缺专门人才的证明材料",
        ),
        _M(
            "proof_personal_or_humanitarian_matters",
            "Proof of personal or humanitarian matters",
            "处理私人事务或者人道主义事由的证明材料",
        ),
        _M(
            "letter_enrolment_institution",
            "Certification letter of enrolment from an educational or training institution in China",
            "境内教育、培训机构出具的在学证明函件",
        ),
        # Visa replacement, Guide VI(III)
        _M("letter_inviting_entity", "Letter from the entity inviting the applicant", "邀请单位出具的函件"),
        _M(
            "admission_and_enrolment_certificates",
            "Letter and certificates of admission and enrolment from an "
            "educational or training institution in China",
            "境内教育、培训机构出具的函件及录取、在学证明",
        ),
        _M(
            "previous_passport_or_change_certificate",
            "Passport used for the most recent entry, or a certificate of "
            "change of passport from the embassy or consulate in China",
            "最近一次入境所持护照或者本国驻华使领馆出具的换发护照证明",
        ),
        _M("passport_used_this_entry", "Passport used upon this entry", "本次入境所持护照"),
        _M(
            "birth_certificate_accompanying_person",
            "Birth certificate of the accompanying person to be added",
            "增加偕行人的出生证明",
        ),
        _M(
            "letter_receiving_travel_agency",
            "Certification letter from the travel agency receiving the applicant",
            "接待旅行社出具的证明函件",
        ),
        # Visa reissue, Guide VI(IV)
        _M(
            "loss_report_or_embassy_note",
            "Confirmation of Reporting the Loss of Passport, or an official note from "
            "the home country's embassy or consulate in China",
            "护照报失证明或者本国驻华使领馆出具的照会",
        ),
        _M(
            "damaged_passport_or_embassy_note",
            "The damaged passport, or an official note from the home country's embassy or consulate in China",
            "损毁的护照或者本国驻华使领馆出具的照会",
        ),
        _M(
            "new_passport",
            "Valid new passport or other international travel document",
            "有效的新护照或者其他国际旅行证件",
        ),
        _M("group_visa_copy", "Photocopy of the group visa", "团体签证复印件"),
        # Residence permits, Regulations Art 16
        _M(
            "talent_supporting_documents",
            "Supporting documents for foreign high-level or urgently needed talents",
            "外国高层次人才和急需紧缺专门人才的相关证明材料",
        ),
        _M(
            "admitting_institution_letter_with_duration",
            "Letter from the admitting institution stating the duration of study",
            "学校出具的注明学习期限的函件",
        ),
        _M(
            "competent_authority_letter_press_card",
            "Letter from the relevant competent authority and the issued press card",
            "有关主管部门出具的函件和核发的记者证",
        ),
        _M(
            "family_reunion_reason_documents",
            "Supporting documents for the reason of the family reunion application",
            "申请事由的相关证明材料",
        ),
        _M(
            "private_affairs_residence_documents",
            "Supporting documents proving the need to reside in China to handle private affairs",
            "需要在中国境内居留处理私人事务的证明材料",
        ),
        _M(
            "health_certificate",
            "Health certificate, valid 6 months from issue (permit valid one year or more)",
            "健康证明（有效期1年以上的居留证件；自开具之日起6个月内有效）",
        ),
        _M("current_residence_permit", "The residence permit held", "所持居留证件"),
        _M("reason_documents", "Materials concerning the reason for the application", "与申请事由相关的材料"),
        _M("loss_report", "Report or confirmation of the loss, theft or robbery", "报失证明"),
        _M("damaged_document", "The damaged document", "损毁的证件"),
        # Art 22 annotation
        _M(
            "school_approval",
            "School's approval of the off-campus part-time work or internship",
            "学校同意校外勤工助学或者实习的证明",
        ),
        _M(
            "internship_unit_letter",
            "Letter of the off-campus work or internship unit stating place and duration",
            "勤工助学或者实习单位出具的注明地点、期限的函件",
        ),
        # Art 23 exit formalities
        _M(
            "home_mission_cannot_reissue",
            "Proof that the home country's institution in China cannot reissue a passport or travel document",
            "本国驻华机构不能补发护照或者国际旅行证件的证明",
        ),
        # Law Art 34, stay permits
        _M(
            "stay_reason_documents",
            "Materials supporting the reason for staying (stay permit)",
            "需要办理停留证件事由的证明材料",
        ),
        # Papers an office asks for that a shared record may replace (seed 001 l.20; cnvisa.law.shared_records)
        _M(
            "accommodation_registration",
            "Proof of accommodation registration",
            "住宿登记证明（住宿登记记录）",
        ),
        _M(
            "employer_business_licence",
            "Business licence of the inviting or employing enterprise",
            "邀请（聘雇）企业营业执照",
        ),
        # Law Art 20, port visas (cnvisa.law.port_visa)
        _M(
            "port_visa_invitation",
            "Invitation letter from the inviting entity or person in China (port visa)",
            "邀请单位或者个人出具的邀请函件（口岸签证）",
        ),
        _M(
            "inviter_enterprise_documents",
            "Materials of the inviting enterprise (port visa for business)",
            "邀请企业的相关材料（商务口岸签证）",
        ),
        _M(
            "competent_department_consent",
            "Proof that the competent department consents to a visa application at the port",
            "有关主管部门同意在口岸申办签证的证明材料",
        ),
        _M(
            "proof_of_humanitarian_need",
            "Proof of the humanitarian reason for urgent entry",
            "出于人道原因需要紧急入境的证明材料",
        ),
    )
}


def material(code: str) -> Material:
    return CATALOGUE[code]


@dataclass(frozen=True, slots=True)
class Requirement:
    """One line of a checklist: a material or procedure and the provision that requires it."""

    material: Material
    citations: tuple[Citation, ...]

    @property
    def code(self) -> str:
        return self.material.code

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.material.code,
            "kind": self.material.kind,
            "label": {"en": self.material.en, "zh": self.material.zh},
            "citations": [c.as_dict() for c in self.citations],
        }


def need(code: str, *citations: Citation) -> Requirement:
    return Requirement(CATALOGUE[code], citations)
