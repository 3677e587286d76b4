"""legacy import: what the TypeScript original had and zka lacked (zka import-legacy)

- exchange_connections.legacy_deleted: a connection zka made to keep the snapshot rows of a connection the
  original had deleted (its rows outlive it there: their foreign key is to the user); always inactive.
- legacy_import_rows: one row per source row imported (users, reports, ...), written in the same
  transaction as what it produced: the import's idempotence and resume point.
- legacy_reports: the original's signed reports, kept verbatim so they still verify.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exchange_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_deleted', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('legacy_import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_table', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_import_rows')),
    sa.UniqueConstraint('source_table', 'source_id', name='uq_legacy_import_rows_source')
    )
    op.create_table('legacy_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('user_uid', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('benchmark', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('report_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enclave_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_reports')),
    sa.UniqueConstraint('report_id', name=op.f('uq_legacy_reports_report_id'))
    )
    with op.batch_alter_table('legacy_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legacy_reports_user_uid'), ['user_uid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('legacy_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legacy_reports_user_uid'))
    op.drop_table('legacy_reports')
    op.drop_table('legacy_import_rows')
    with op.batch_alter_table('exchange_connections', schema=None) as batch_op:
        batch_op.drop_column('legacy_deleted')
