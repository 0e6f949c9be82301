"""the school's calendar (AE 4): the feed token of each school, the calendar event of each
reserved unit, an attachment on outbox mails

Revision ID: g8calfeed09
Revises: f6revision07
Create Date: 2026-12-06 07:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'g8calfeed09'
down_revision = 'f6revision07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auto_ecole') as batch:
        batch.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('calendar_token_at', sa.DateTime(), nullable=True))
        batch.create_unique_constraint(op.f('uq_auto_ecole_calendar_token_hash'),
                                       ['calendar_token_hash'])
    with op.batch_alter_table('unit') as batch:
        batch.add_column(sa.Column('ics_uid', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('ics_sequence', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.create_index('ix_unit_ics_uid', ['ics_uid'], unique=False)
    with op.batch_alter_table('outbox_mail') as batch:
        batch.add_column(sa.Column('attachment_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('attachment_type', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('attachment_body', sa.String(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_mail') as batch:
        batch.drop_column('attachment_body')
        batch.drop_column('attachment_type')
        batch.drop_column('attachment_name')
    with op.batch_alter_table('unit') as batch:
        batch.drop_index('ix_unit_ics_uid')
        batch.drop_column('ics_sequence')
        batch.drop_column('ics_uid')
    with op.batch_alter_table('auto_ecole') as batch:
        batch.drop_constraint(op.f('uq_auto_ecole_calendar_token_hash'), type_='unique')
        batch.drop_column('calendar_token_at')
        batch.drop_column('calendar_token_hash')
