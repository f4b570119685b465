"""Alembic environment shared by the runtime chain and every service chain.

The caller (``driftline.runtime.migrations``) passes an open connection whose search path
is the service's schema, plus the version table to use, through ``config.attributes``.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=config.attributes["version_table"],
    version_table_schema=config.attributes["schema"],
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
