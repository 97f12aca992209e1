"""installation state: suspended / deleted App installations, repositories removed from one (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'app_installations',
        sa.Column('installation_id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=200), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('changed_by', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('installation_id', name=op.f('pk_app_installations')),
    )
    with op.batch_alter_table('github_installations') as batch:
        batch.add_column(sa.Column('removed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('changed_by', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('github_installations') as batch:
        batch.drop_column('changed_by')
        batch.drop_column('removed')
    op.drop_table('app_installations')
