"""key_events (append-only audit of DEK handoffs) and a check value beside each DEK wrapping

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MESSAGE = "key_events is append-only"


def upgrade() -> None:
    with op.batch_alter_table('data_encryption_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_value', sa.LargeBinary(), nullable=True))
    op.create_table('key_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('instance_master_key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('peer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('peer_master_key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('peer_chip_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('peer_measurement', sqlmodel.sql.sqltypes.AutoString(length=96), nullable=True),
    sa.Column('dek_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_events'))
    )
    # Like sync_events: the database itself refuses UPDATE and DELETE, whoever asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION key_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END $$
        """)
        op.execute("""
            CREATE TRIGGER key_events_append_only BEFORE UPDATE OR DELETE ON key_events
            FOR EACH ROW EXECUTE FUNCTION key_events_append_only()
        """)
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER key_events_no_{action.lower()} BEFORE {action} ON key_events
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER key_events_append_only ON key_events")
        op.execute("DROP FUNCTION key_events_append_only()")
    op.drop_table('key_events')
    with op.batch_alter_table('data_encryption_keys', schema=None) as batch_op:
        batch_op.drop_column('check_value')
