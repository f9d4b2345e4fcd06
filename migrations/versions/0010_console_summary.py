"""the console's monthly summary table

Revision ID: 0010
Revises: 0014
Create Date: 2026-11-26 03:05:00.047053
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('dim', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('district', sa.String(length=50), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('m1', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('m2', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('m3', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('m4', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_summary')),
    sa.UniqueConstraint('source', 'dim', 'month', 'district', 'value', name='uq_console_summary')
    )


def downgrade():
    op.drop_table('console_summary')
