"""outbox: a stable Message-ID per mail, and the "failed" status (en échec)

Revision ID: a1mail000002
Revises: 925194622dec
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1mail000002'
down_revision = '925194622dec'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
    # Mails queued before this revision get a Message-ID of their own, kept from now on.
    op.execute("UPDATE outbox_mail SET message_id = '<outbox-' || CAST(id AS VARCHAR(20)) "
               "|| '@rdvpl.invalid>' WHERE message_id IS NULL")
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_mail_message_id'), ['message_id'])
        batch_op.drop_constraint(batch_op.f('ck_outbox_mail_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_outbox_mail_status_known'), "status IN ('pending', 'sent', 'failed')")


def downgrade():
    # A failed mail becomes pending again: nothing promised is dropped by a downgrade.
    op.execute("UPDATE outbox_mail SET status = 'pending' WHERE status = 'failed'")
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_mail_status_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_mail_status_known'),
                                         "status IN ('pending', 'sent')")
        batch_op.drop_constraint(batch_op.f('uq_outbox_mail_message_id'), type_='unique')
        batch_op.drop_column('message_id')
