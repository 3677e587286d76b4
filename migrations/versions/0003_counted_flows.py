"""counted_flows: keyed hashes of the deposits/withdrawals already counted per connection

A flow whose state changes after its window (a deposit pending at one snapshot, completed later) is
counted once, in the window in which the balance shows it: each sync re-reads a look-back of history
and skips the flows listed here (issue 19, item 13). Only an HMAC of the venue's flow id is stored.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counted_flows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('flow_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['exchange_connections.id'],
                            name=op.f('fk_counted_flows_connection_id_exchange_connections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counted_flows')),
    sa.UniqueConstraint('connection_id', 'flow_hash', name='uq_counted_flows_connection_flow')
    )
    with op.batch_alter_table('counted_flows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counted_flows_connection_id'), ['connection_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('counted_flows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counted_flows_connection_id'))
    op.drop_table('counted_flows')
