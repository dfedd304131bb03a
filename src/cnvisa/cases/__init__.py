"""Cases: every application as a stored, audited, deadline-driven case (records, workflow, deadlines,
audit). No HTTP here; storage lives in ``cnvisa.store``."""
