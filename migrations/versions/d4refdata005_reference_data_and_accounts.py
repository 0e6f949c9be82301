"""reference data and accounts: active flags, per-department matricule and ID Aurige,
account activation date, requeued mails

Revision ID: d4refdata005
Revises: c3demand0004
Create Date: 2026-12-06 05:00:00

Matricule and ID Aurige become unique per department (not globally): every record is scoped
to one department, so a global check would tell a BER what another department holds and would
forbid re-creating, in their new department, an inspector or a school that moved (the old
record stays, deactivated, for the history that refers to it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4refdata005'
down_revision = 'c3demand0004'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('centre', 'inspector', 'auto_ecole', 'user_account'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.drop_constraint('uq_inspector_matricule', type_='unique')
        batch_op.create_unique_constraint('uq_inspector_department_id_matricule',
                                          ['department_id', 'matricule'])
    with op.batch_alter_table('auto_ecole', schema=None) as batch_op:
        batch_op.drop_constraint('uq_auto_ecole_aurige_id', type_='unique')
        batch_op.create_unique_constraint('uq_auto_ecole_department_id_aurige_id',
                                          ['department_id', 'aurige_id'])
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(), nullable=True))
    # Accounts made before activation existed (demo, seed) had a password from the start.
    op.execute("UPDATE user_account SET activated_at = CURRENT_TIMESTAMP")
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requeued_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('requeued_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('activated_at')
    with op.batch_alter_table('auto_ecole', schema=None) as batch_op:
        batch_op.drop_constraint('uq_auto_ecole_department_id_aurige_id', type_='unique')
        batch_op.create_unique_constraint('uq_auto_ecole_aurige_id', ['aurige_id'])
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.drop_constraint('uq_inspector_department_id_matricule', type_='unique')
        batch_op.create_unique_constraint('uq_inspector_matricule', ['matricule'])
    for table in ('user_account', 'auto_ecole', 'inspector', 'centre'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('active')
