"""Other agencies behind an adapter (issue 10 §1): the work-permit authority's decisions reach cnvisa as
idempotent, correlated, ordered messages, each recorded (``InterAgencyMessage``) and audited; the branch they
decide is changed only by the injected handler (the joint application's), never by hand.

- ``messages``: the message and its payload hash; ``intake``: ``receive`` and ``register_correlation``;
- ``work_permit_client``: the HTTP client of the authority's system and its configuration;
- ``outbox``: submitting a branch, the withdrawal notice, polling for decisions;
- ``stub``: a stand-in for the authority's system (tests, demos).

The wire format is cnvisa's proposal (docs/agencies.md): the real interface is not known yet.
"""

from cnvisa.cases.agencies.intake import (
    APPLIED,
    DUPLICATE,
    REFUSED,
    BranchHandler,
    Receipt,
    receive,
    register_correlation,
)
from cnvisa.cases.agencies.messages import WORK_PERMIT_AGENCY, WORK_PERMIT_KINDS, AgencyMessage, payload_hash
from cnvisa.cases.agencies.outbox import (
    Delivery,
    deliver_pending,
    notify_withdrawal,
    poll_loop,
    poll_once,
    record_outgoing,
    submit_work_permit_branch,
)
from cnvisa.cases.agencies.work_permit_client import (
    AgencyError,
    AgencyRefused,
    AgencyUnavailable,
    WorkPermitClient,
    WorkPermitClientConfig,
)

__all__ = [
    "APPLIED",
    "DUPLICATE",
    "REFUSED",
    "WORK_PERMIT_AGENCY",
    "WORK_PERMIT_KINDS",
    "AgencyError",
    "AgencyMessage",
    "AgencyRefused",
    "AgencyUnavailable",
    "BranchHandler",
    "Delivery",
    "Receipt",
    "WorkPermitClient",
    "WorkPermitClientConfig",
    "deliver_pending",
    "notify_withdrawal",
    "payload_hash",
    "poll_loop",
    "poll_once",
    "receive",
    "record_outgoing",
    "register_correlation",
    "submit_work_permit_branch",
]
