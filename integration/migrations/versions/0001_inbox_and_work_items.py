"""inbox and work items

Revision ID: 0001
Revises:
Create Date: 2026-12-01 09:02:33.590674
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracker', sa.String(length=16), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('tracker', 'delivery_id', name=op.f('uq_deliveries_tracker_delivery_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('work_items',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('tracker', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('container', sa.String(length=300), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.String(length=100), nullable=True),
    sa.Column('assignees', sa.JSON(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('parent_key', sa.String(length=300), nullable=True),
    sa.Column('parent_ref', sa.String(length=200), nullable=True),
    sa.Column('parent_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('milestone', sa.String(length=300), nullable=True),
    sa.Column('issue_type', sa.String(length=100), nullable=True),
    sa.Column('estimate', sa.Float(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_delivery_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_work_items'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_items_parent_key'), ['parent_key'], unique=False)
        batch_op.create_index('ix_work_items_tracker_ref', ['tracker', 'ref'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_tracker_ref')
        batch_op.drop_index(batch_op.f('ix_work_items_parent_key'))

    op.drop_table('work_items')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_status_received_at')

    op.drop_table('deliveries')
