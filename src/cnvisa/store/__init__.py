"""Storage: SQLAlchemy 2 (async) tables and repositories; Alembic migrations make the schema."""

# Every table module is loaded with the package, so that Base.metadata (Alembic's env, the schema test) always
# holds every table, whichever module was imported first.
from cnvisa.store import (  # noqa: F401
    agency_tables,
    joint_tables,
    obligation_tables,
    outbox_tables,
    passport_tables,
    penalty_tables,
    police_tables,
    port_visa_tables,
    post_change_tables,
    presence_tables,
    register_tables,
)
