"""work_items.parent_delivery_id: the parent link's version is (parent_changed_at, delivery), like the fields'

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_delivery_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_column('parent_delivery_id')
