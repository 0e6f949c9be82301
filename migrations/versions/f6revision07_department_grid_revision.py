"""department.grid_revision: increased by every change to what the department's grids show

Revision ID: f6revision07
Revises: e5capacity06
Create Date: 2026-12-06 07:50:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6revision07'
down_revision = 'e5capacity06'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('department') as batch_op:
        batch_op.add_column(sa.Column('grid_revision', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('department') as batch_op:
        batch_op.drop_column('grid_revision')
