"""checkin_answers: okrbot's one answer per `/checkin` comment (issue 13)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'checkin_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_key', sa.String(length=400), nullable=False),
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('anchor', sa.String(length=300), nullable=False),
        sa.Column('comment_id', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('remote_id', sa.String(length=100), nullable=True),
        sa.Column('uncertain', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_answers')),
        sa.UniqueConstraint('comment_key', name=op.f('uq_checkin_answers_comment_key')),
    )
    op.create_index('ix_checkin_answers_state_due_at', 'checkin_answers', ['state', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_checkin_answers_state_due_at', table_name='checkin_answers')
    op.drop_table('checkin_answers')
