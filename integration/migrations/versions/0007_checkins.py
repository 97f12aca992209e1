"""checkins: an owner's `/checkin` comments on a key result's anchor (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 00:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'checkins',
        sa.Column('comment_key', sa.String(length=400), nullable=False),
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=True),
        sa.Column('confidence', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('author_login', sa.String(length=200), nullable=True),
        sa.Column('author_account_id', sa.String(length=200), nullable=True),
        sa.Column('author_name', sa.Text(), nullable=True),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn', sa.Boolean(), nullable=False),
        sa.Column('last_delivery_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('comment_key', name=op.f('pk_checkins')),
    )
    op.create_index('ix_checkins_kr_id_written_at', 'checkins', ['kr_id', 'written_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_checkins_kr_id_written_at', table_name='checkins')
    op.drop_table('checkins')
