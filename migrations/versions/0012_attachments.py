"""attachments of demands, tech projects and offers (files kept under ATTACHMENT_DIR); audit log indexes

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-26 03:03:23.725359
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_type', sa.Enum('demand', 'tech_project', 'offer', name='attachmentowner', native_enum=False, length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('business_licence', 'feasibility_study', 'financial_statements', 'credit_plan', 'contract_template', 'other', name='attachmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('is_deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_attachments_deleted_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_attachments_org_id_organizations')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_attachments_owner', ['owner_type', 'owner_id'], unique=False)

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_org_id'))

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_owner')
        batch_op.drop_index(batch_op.f('ix_attachments_org_id'))

    op.drop_table('attachments')
