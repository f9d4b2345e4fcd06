"""demands.updated_at indexed: the ranking's pool fingerprint reads its maximum on every institution request

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 03:33:53.069183
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demands_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demands_updated_at'))
