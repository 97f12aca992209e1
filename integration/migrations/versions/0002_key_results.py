"""key results

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:37:38.827294
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_result_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kr_id', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_result_history'))
    )
    with op.batch_alter_table('key_result_history', schema=None) as batch_op:
        batch_op.create_index('ix_key_result_history_kr_id_at', ['kr_id', 'at'], unique=False)

    op.create_table('key_results',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('objective_id', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('anchor_key', sa.String(length=300), nullable=True),
    sa.Column('anchor_url', sa.Text(), nullable=True),
    sa.Column('anchor_state', sa.String(length=16), nullable=True),
    sa.Column('anchor_assignees', sa.JSON(), nullable=False),
    sa.Column('owner_override', sa.String(length=200), nullable=True),
    sa.Column('measure', sa.String(length=16), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('n_open', sa.Integer(), nullable=False),
    sa.Column('n_done', sa.Integer(), nullable=False),
    sa.Column('n_dropped', sa.Integer(), nullable=False),
    sa.Column('points_open', sa.Float(), nullable=False),
    sa.Column('points_done', sa.Float(), nullable=False),
    sa.Column('points_dropped', sa.Float(), nullable=False),
    sa.Column('n_unestimated', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_results'))
    )
    with op.batch_alter_table('key_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_results_anchor_key'), ['anchor_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_results_objective_id'), ['objective_id'], unique=False)

    op.create_table('memberships',
    sa.Column('kr_id', sa.String(length=200), nullable=False),
    sa.Column('work_item_key', sa.String(length=300), nullable=False),
    sa.Column('via', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kr_id', 'work_item_key', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_work_item_key', ['work_item_key'], unique=False)

    op.create_table('objectives',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('anchor_key', sa.String(length=300), nullable=True),
    sa.Column('anchor_url', sa.Text(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objectives'))
    )
    with op.batch_alter_table('objectives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objectives_anchor_key'), ['anchor_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('objectives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objectives_anchor_key'))

    op.drop_table('objectives')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_work_item_key')

    op.drop_table('memberships')
    with op.batch_alter_table('key_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_results_objective_id'))
        batch_op.drop_index(batch_op.f('ix_key_results_anchor_key'))

    op.drop_table('key_results')
    with op.batch_alter_table('key_result_history', schema=None) as batch_op:
        batch_op.drop_index('ix_key_result_history_kr_id_at')

    op.drop_table('key_result_history')
