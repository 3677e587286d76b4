"""sync_events is append-only: the database refuses UPDATE and DELETE on it

The application never updates or deletes audit rows (tests/sync/test_audit_trail.py checks its code);
these triggers make the database refuse it too, whoever asks. Dropping them needs a migration.

Revision ID: 0002
Revises: 0001
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

MESSAGE = "sync_events is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION sync_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END $$
        """)
        op.execute("""
            CREATE TRIGGER sync_events_append_only BEFORE UPDATE OR DELETE ON sync_events
            FOR EACH ROW EXECUTE FUNCTION sync_events_append_only()
        """)
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER sync_events_no_{action.lower()} BEFORE {action} ON sync_events
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sync_events_append_only ON sync_events")
        op.execute("DROP FUNCTION sync_events_append_only()")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER sync_events_no_{action}")
