"""snapshots.cash and snapshots.unrealized_pnl may be NULL: unknown, never 0

IBKR backfill rows stored 0 for cash and unrealized P&L, which the statement either had (cash) or did
not have (unrealized P&L without Open Positions for that day). New backfill rows store what the
statement has and NULL for what it lacks; the 0 of existing backfill rows was never a figure from the
venue, so it becomes NULL too (a re-connect backfills the real values).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=28, scale=8)


def upgrade() -> None:
    with op.batch_alter_table('snapshots') as batch:
        batch.alter_column('cash', existing_type=MONEY, nullable=True)
        batch.alter_column('unrealized_pnl', existing_type=MONEY, nullable=True)
    op.execute("UPDATE snapshots SET cash = NULL, unrealized_pnl = NULL WHERE trigger = 'backfill'")


def downgrade() -> None:
    op.execute("UPDATE snapshots SET cash = 0 WHERE cash IS NULL")
    op.execute("UPDATE snapshots SET unrealized_pnl = 0 WHERE unrealized_pnl IS NULL")
    with op.batch_alter_table('snapshots') as batch:
        batch.alter_column('cash', existing_type=MONEY, nullable=False)
        batch.alter_column('unrealized_pnl', existing_type=MONEY, nullable=False)
