"""sync state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:59:38.853122
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_state',
    sa.Column('kr_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('pages', sa.JSON(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kr_id', 'source', name=op.f('pk_sync_state'))
    )


def downgrade() -> None:
    op.drop_table('sync_state')
