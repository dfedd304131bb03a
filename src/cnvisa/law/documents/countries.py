"""Country and organisation codes read from identity documents (ICAO Doc 9303 Part 3 §5, ISO 3166-1)."""

from __future__ import annotations

from typing import Final

__all__ = ["ICAO_SPECIAL_CODES", "ISO_3166_ALPHA3", "read_country"]

ICAO_SPECIAL_CODES: Final[dict[str, str]] = {
    "D": "Germany (ICAO uses D, not DEU)",
    "EUE": "European Union",
    "GBD": "British Overseas Territories citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas citizen",
    "GBP": "British protected person",
    "GBS": "British subject",
    "RKS": "Kosovo (code used on documents issued by Kosovo)",
    "UNA": "specialized agency of the United Nations or one of its officials",
    "UNK": "resident of Kosovo, document issued by UNMIK",
    "UNO": "United Nations Organization or one of its officials",
    "UTO": "Utopia (fictional State of the ICAO specimens)",
    "XBA": "African Development Bank",
    "XCC": "Caribbean Community (CARICOM)",
    "XCO": "Common Market for Eastern and Southern Africa (COMESA)",
    "XDC": "Southern African Development Community",
    "XEC": "Economic Community of West African States (ECOWAS)",
    "XES": "Organisation of Eastern Caribbean States",
    "XIM": "African Export-Import Bank",
    "XMP": "Parliamentary Assembly of the Mediterranean",
    "XOM": "Sovereign Military Order of Malta",
    "XPO": "International Criminal Police Organization (INTERPOL)",
    "XXA": "stateless person (1954 Convention, Art 1)",
    "XXB": "refugee (1951 Convention, Art 1, as amended by the 1967 Protocol)",
    "XXC": "refugee other than under XXB",
    "XXX": "person of unspecified nationality",
}
"""Codes of ICAO Doc 9303 Part 3 §5 that are not ISO 3166-1 alpha-3 country codes (labels only)."""

_ISO_3166_ALPHA3_TEXT: Final = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR
    BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL
    COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK
    FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV
    HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO
    LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG
    MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN
    PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE
    SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO
    TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO_3166_ALPHA3: Final[frozenset[str]] = frozenset(_ISO_3166_ALPHA3_TEXT.split())
"""ISO 3166-1 alpha-3 codes (snapshot of the 249 assigned codes). Used only to report whether a code
is known: unknown codes are never rejected, because the list changes."""


def read_country(raw: str) -> tuple[str, bool, str | None]:
    """(code without fillers, known?, label of an ICAO-only code)."""
    code = raw.rstrip("<")
    return code, code in ISO_3166_ALPHA3 or code in ICAO_SPECIAL_CODES, ICAO_SPECIAL_CODES.get(code)
