"""absences and other duties of inspectors (BER 6), by half-day

Revision ID: e5capacity06
Revises: d4refdata005
Create Date: 2026-12-06 06:20:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5capacity06'
down_revision = 'd4refdata005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'absence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('inspector_id', sa.Integer(), nullable=False),
        sa.Column('motif', sa.String(length=20), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('start_afternoon', sa.Boolean(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('end_afternoon', sa.Boolean(), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('start_date <= end_date', name=op.f('ck_absence_start_before_end')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_absence_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['inspector_id'], ['inspector.id'], ondelete='CASCADE',
                                name=op.f('fk_absence_inspector_id_inspector')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_absence')),
    )
    op.create_index('ix_absence_inspector_dates', 'absence',
                    ['inspector_id', 'start_date', 'end_date'], unique=False)


def downgrade():
    op.drop_index('ix_absence_inspector_dates', table_name='absence')
    op.drop_table('absence')
