"""The commands on port-visa requests (Law Art 20; the table is ``flow``): filed by the inviting organisation's staff
or the foreigner, decided and issued at the port's desk, withdrawn by the filer, lapsed by the daily sweep.

Every command is one transaction: the idempotency key looked up (a repeat returns the first answer; the same key
with another request is refused, as ``cnvisa.cases.runner``), the request read at its ``version`` (stale:
``Conflict``), the transition table asked, the guards run, the row changed and the audit event appended
(``cnvisa.cases.audit``). Filing asks the law engine (``cnvisa.law.assess``, matter ``port_visa``): a blocking
problem refuses it naming the field and the rule, and nothing is written.
"""

import os

from cnvisa.cases.errors import BadInput
from cnvisa.cases.port_visa import flow
from cnvisa.cases.port_visa.desk import Desk
from cnvisa.cases.port_visa.filing import Filing, Filings

__all__ = ["Filing", "PortVisaService", "port_visa_window"]


class PortVisaService(Filings, Desk):
    """Filing, the desk, the sweep: ``Filings`` and ``Desk`` over one ``PortVisaBase``."""


def port_visa_window(environ: dict[str, str] | None = None) -> int:
    """The arrival window in days (OFFICE RULE, ``flow.ARRIVAL_WINDOW_DAYS``): ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS``
    when set (0 to ``flow.ARRIVAL_WINDOW_MAX``), else the default."""
    raw = (os.environ if environ is None else environ).get("CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS", "").strip()
    if not raw:
        return flow.ARRIVAL_WINDOW_DAYS
    if not raw.isdigit() or int(raw) > flow.ARRIVAL_WINDOW_MAX:
        raise BadInput(
            "CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS", f"0 to {flow.ARRIVAL_WINDOW_MAX} days (office rule)"
        )
    return int(raw)
