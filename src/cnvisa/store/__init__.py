"""Storage: SQLAlchemy 2 (async) tables and repositories; Alembic migrations make the schema."""

# Tables kept in their own modules join the one metadata (cnvisa.store.tables.Base) wherever the store is
# imported: the migrations, the tests' templates and the schema comparison all see them.
from cnvisa.store import post_change_tables as post_change_tables
