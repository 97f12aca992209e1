"""Alembic environment: the engine comes from okrbot (integration.db.upgrade), never from a .ini."""

from alembic import context

# Each room's tables join the one metadata when their module is imported: all of them, so that the
# metadata Alembic compares with (autogenerate) is the whole schema.
import integration.reconcile.models  # noqa: F401
import integration.summaries.models  # noqa: F401
import integration.trackers.models  # noqa: F401
import integration.writeback.models  # noqa: F401
import mappings.models  # noqa: F401
import webhooks.models  # noqa: F401
from core.schema import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
