"""Storage: SQLAlchemy 2 (async) tables and repositories; Alembic migrations make the schema."""
