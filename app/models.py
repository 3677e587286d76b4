"""SQLModel tables (SPEC §4). Timestamps are timezone-aware UTC. Money is NUMERIC(28, 8): exact on
PostgreSQL; the embedded SQLite of development stores NUMERIC as a floating-point REAL (~15 significant
digits), so development figures can differ from production in the last decimals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, MetaData, Numeric, UniqueConstraint, text
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

MONEY = Numeric(28, 8)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def _money(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(MONEY, nullable=True))
    return Field(sa_column=Column(MONEY, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=128, unique=True, index=True)
    created_at: datetime = _ts()


class ExchangeConnection(SQLModel, table=True):
    __tablename__ = "exchange_connections"
    __table_args__ = (
        Index(
            "uq_exchange_connections_active_label", "user_uid", "exchange", "label",
            unique=True, sqlite_where=text("is_active"), postgresql_where=text("is_active"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_uid: str = Field(max_length=128, index=True)
    exchange: str = Field(max_length=32)
    label: str = Field(max_length=64)
    credentials: str | None = Field(default=None)  # "v1." + base64(nonce‖ct‖tag); None once deleted
    credentials_hash: str | None = Field(default=None, max_length=64, index=True)
    permissions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_paper: bool = False
    exclude_from_report: bool = False
    is_active: bool = True
    # Kept by `zka import-legacy` for the rows of a connection the TypeScript original had deleted.
    legacy_deleted: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Snapshot(SQLModel, table=True):
    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("connection_id", "day", name="uq_snapshots_connection_day"),)
    id: int | None = Field(default=None, primary_key=True)
    user_uid: str = Field(max_length=128, index=True)
    connection_id: int = Field(foreign_key="exchange_connections.id", index=True)
    exchange: str = Field(max_length=32)
    label: str = Field(max_length=64)
    day: date = Field(index=True)
    taken_at: datetime = _ts()
    trigger: str = Field(max_length=16)  # scheduled | initial | backfill
    total_equity: Any = _money()
    cash: Any = _money(nullable=True)  # None: unknown (a backfilled day whose statement lacks it), never 0
    unrealized_pnl: Any = _money(nullable=True)
    deposits: Any = _money()
    withdrawals: Any = _money()
    breakdown: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    currency: str = Field(default="USD", max_length=8)


class CountedFlow(SQLModel, table=True):
    """A deposit/withdrawal already counted in some snapshot of a connection, by keyed hash of the venue's
    flow id (HMAC under a key derived from the DEK): never the flow, its amount or its id. A sync re-reads
    a look-back of history each time and counts only flows not listed here (app/services/flow_memory.py)."""

    __tablename__ = "counted_flows"
    __table_args__ = (UniqueConstraint("connection_id", "flow_hash", name="uq_counted_flows_connection_flow"),)
    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="exchange_connections.id", index=True)
    flow_hash: str = Field(max_length=64)
    created_at: datetime = _ts()


class SyncEvent(SQLModel, table=True):
    """Append-only audit of sync attempts. The application never updates or deletes rows."""

    __tablename__ = "sync_events"
    id: int | None = Field(default=None, primary_key=True)
    user_uid: str = Field(max_length=128, index=True)
    connection_id: int = Field(index=True)
    trigger: str = Field(max_length=16)  # scheduled | scheduled_retry | initial | backfill | manual
    scheduled_for: date | None = None
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    outcome: str = Field(max_length=16)  # success | failed | refused | skipped
    error_class: str | None = Field(default=None, max_length=64)


class DataEncryptionKey(SQLModel, table=True):
    """One row per wrapping of a DEK (SPEC §5)."""

    __tablename__ = "data_encryption_keys"
    __table_args__ = (UniqueConstraint("dek_id", "master_key_id", name="uq_data_encryption_keys_dek_master"),)
    id: int | None = Field(default=None, primary_key=True)
    dek_id: str = Field(max_length=32, index=True)
    wrapping: str = Field(max_length=32)  # snp-derived | file
    master_key_id: str = Field(max_length=16)
    wrapped_dek: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # A known plaintext encrypted under the DEK itself: whoever holds a candidate DEK (an instance that
    # received it by handoff) can check it is this one before storing a wrapping of it.
    check_value: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    is_active: bool = True
    created_at: datetime = _ts()
    rotated_at: datetime | None = _ts(nullable=True)


class KeyEvent(SQLModel, table=True):
    """Append-only audit of DEK handoff attempts, granted or refused, on either side. Never key bytes."""

    __tablename__ = "key_events"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _ts()
    action: str = Field(max_length=32)  # handoff_donor | handoff_requester | rotate
    outcome: str = Field(max_length=16)  # granted | received | refused | failed | done
    reason: str = Field(max_length=500)  # why refused (the failed check), or what was done
    instance_master_key_id: str = Field(max_length=16)  # the instance writing the row
    peer: str | None = Field(default=None, max_length=255)  # peer URL (requester) or client address (donor)
    peer_master_key_id: str | None = Field(default=None, max_length=16)
    peer_chip_id: str | None = Field(default=None, max_length=128)
    peer_measurement: str | None = Field(default=None, max_length=96)
    dek_id: str | None = Field(default=None, max_length=32)


class SealedKey(SQLModel, table=True):
    """A private key (e.g. report signing) wrapped by the master key."""

    __tablename__ = "sealed_keys"
    __table_args__ = (UniqueConstraint("purpose", "master_key_id", name="uq_sealed_keys_purpose_master"),)
    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=32)  # report-signing | e2e
    master_key_id: str = Field(max_length=16)
    public_key_der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_private_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts()


class SignedReport(SQLModel, table=True):
    __tablename__ = "signed_reports"
    __table_args__ = (UniqueConstraint("dedup_key", name="uq_signed_reports_dedup_key"),)
    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=64, unique=True, index=True)
    user_uid: str = Field(max_length=128, index=True)
    period_start: date
    period_end: date
    benchmark: str | None = Field(default=None, max_length=16)
    dedup_key: str = Field(max_length=64)  # sha256 of (user, period, benchmark, options)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    display: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hash: str = Field(max_length=64)
    signature: str
    public_key: str  # base64 SPKI DER
    created_at: datetime = _ts()


class BenchmarkPrice(SQLModel, table=True):
    __tablename__ = "benchmark_prices"
    symbol: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    close: Any = Field(sa_column=Column(Numeric(28, 8), nullable=False))


class RateLimitWindow(SQLModel, table=True):
    """Rate-limit counters shared by the replicas on PostgreSQL (app/core/rate_limit_store.py): hits per
    limit key per fixed window. The key is a hash: no user id or client address is stored."""

    __tablename__ = "rate_limit_windows"
    key: str = Field(primary_key=True, max_length=64)
    window_start: int = Field(sa_column=Column(BigInteger, primary_key=True))  # Unix seconds
    hits: int
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))  # Unix seconds


class LegacyImportRow(SQLModel, table=True):
    """One source row of the TypeScript original that `zka import-legacy` imported, written in the same
    transaction as what it produced: a second run skips it, a resumed run starts after it."""

    __tablename__ = "legacy_import_rows"
    __table_args__ = (UniqueConstraint("source_table", "source_id", name="uq_legacy_import_rows_source"),)
    id: int | None = Field(default=None, primary_key=True)
    source_table: str = Field(max_length=32)
    source_id: str = Field(max_length=128)
    target_id: int | None = None
    created_at: datetime = _ts()


class LegacyReport(SQLModel, table=True):
    """A signed report of the TypeScript original, kept verbatim (its `reportData`): it verifies by hash
    and signature (POST /reports/verify accepts the legacy form)."""

    __tablename__ = "legacy_reports"
    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=128, unique=True)
    user_uid: str = Field(max_length=128, index=True)
    period_start: date
    period_end: date
    benchmark: str | None = Field(default=None, max_length=32)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    report_hash: str = Field(max_length=64)
    enclave_version: str = Field(max_length=32)
    created_at: datetime = _ts()
