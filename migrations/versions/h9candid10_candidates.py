"""candidates named by schools on their reserved units (AE 5 "Mes candidats")

Revision ID: h9candid10
Revises: g8calfeed09
Create Date: 2026-12-06 07:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h9candid10'
down_revision = 'g8calfeed09'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'candidate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('auto_ecole_id', sa.Integer(), nullable=False),
        sa.Column('last_name', sa.String(length=80), nullable=False),
        sa.Column('first_name', sa.String(length=80), nullable=False),
        sa.Column('neph', sa.String(length=12), nullable=False),
        sa.Column('named_at', sa.DateTime(), nullable=False),
        sa.Column('named_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('length(neph) = 12', name=op.f('ck_candidate_neph_twelve')),
        sa.ForeignKeyConstraint(['auto_ecole_id'], ['auto_ecole.id'],
                                name=op.f('fk_candidate_auto_ecole_id_auto_ecole')),
        sa.ForeignKeyConstraint(['named_by_id'], ['user_account.id'],
                                name=op.f('fk_candidate_named_by_id_user_account')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE',
                                name=op.f('fk_candidate_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate')),
        sa.UniqueConstraint('unit_id', name=op.f('uq_candidate_unit_id')),
    )
    op.create_index('ix_candidate_auto_ecole', 'candidate', ['auto_ecole_id'], unique=False)


def downgrade():
    op.drop_index('ix_candidate_auto_ecole', table_name='candidate')
    op.drop_table('candidate')
