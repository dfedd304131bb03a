"""cnvisa — the China Visa Service Platform.

The PRC rules for foreigners' visas, stay permits and residence permits, as cited code
(``cnvisa.law``), run as stored, audited cases, served to applicants, officers,
organisations and verifying institutions.
"""

__version__ = "0.1.0"
