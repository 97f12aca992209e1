"""Alembic environment: the engine comes from okrbot (integration.db.upgrade), never from a .ini."""

from alembic import context

from mappings.models import Base

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
