"""outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:50:43.686450
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credential_budget',
    sa.Column('credential', sa.String(length=200), nullable=False),
    sa.Column('next_write_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('credential', name=op.f('pk_credential_budget'))
    )
    op.create_table('github_installations',
    sa.Column('repo', sa.String(length=300), nullable=False),
    sa.Column('installation_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('repo', name=op.f('pk_github_installations'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kr_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('body_hash', sa.String(length=64), nullable=True),
    sa.Column('sent_hash', sa.String(length=64), nullable=True),
    sa.Column('comment_id', sa.String(length=100), nullable=True),
    sa.Column('uncertain', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('writes', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('kr_id', 'kind', name=op.f('uq_outbox_kr_id_kind'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_due_at', ['state', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_due_at')

    op.drop_table('outbox')
    op.drop_table('github_installations')
    op.drop_table('credential_budget')
