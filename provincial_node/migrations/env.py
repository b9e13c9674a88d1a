"""Alembic environment of a provincial node; run by common.db.migrate with a connection."""

from alembic import context
from sqlmodel import SQLModel

import provincial_node.changelog  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    version_table="alembic_version_provincial",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
