"""Figures the case core reports to the operator (issue 14), exported by ``/metrics`` (``cnvisa.http.observe``).
Kept here, beside what they measure, so that the core counts without knowing HTTP."""

from __future__ import annotations

from typing import Final

from prometheus_client import Histogram

AUDIT_GROUP: Final = Histogram(
    "cnvisa_audit_group_size",
    "Audit events of staff reads written together in one transaction (GroupCommit): 1 when reads are few.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 200),
)
