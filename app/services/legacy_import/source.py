"""Reading a TypeScript-era database (PostgreSQL, tables made by `prisma db push`), read-only.

Column names are Prisma's field names, quoted camelCase; timestamps are TIMESTAMP(3) without time zone
holding UTC; money is DOUBLE PRECISION. Schema: tests/data/fixtures/ts-original/schema.prisma (the
original's prisma/schema.prisma at 100cf59). Later versions of the original added
exchange_connections."excludeFromReport"; it is read when present, false otherwise.

Synchronous psycopg (the caller runs it in a thread): the session is READ ONLY, so no statement of this
module can change the source even by mistake.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.services.legacy_import.keys import WrappedDek


class SourceError(Exception):
    """The source cannot be read as a database of the original; one line for the operator."""


@dataclass(frozen=True)
class LegacyUser:
    id: str
    uid: str
    sync_interval_minutes: int
    created_at: datetime


@dataclass(frozen=True)
class LegacyConnection:
    id: str
    user_uid: str
    exchange: str
    label: str
    encrypted_api_key: str
    encrypted_api_secret: str
    encrypted_passphrase: str | None
    credentials_hash: str | None
    is_active: bool
    exclude_from_report: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LegacySnapshot:
    id: str
    user_uid: str
    timestamp: datetime
    exchange: str
    total_equity: float
    realized_balance: float
    unrealized_pnl: float
    deposits: float
    withdrawals: float
    breakdown: Any
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LegacySyncRecord:
    """A sync_statuses row (status set) or a sync_rate_limit_logs row (status None)."""

    table: str
    id: str
    user_uid: str
    exchange: str
    last_sync_time: datetime | None
    status: str | None
    count: int


@dataclass(frozen=True)
class LegacySignedReport:
    id: str
    report_id: str
    user_uid: str
    start_date: datetime
    end_date: datetime
    benchmark: str | None
    report_data: Any
    report_hash: str
    enclave_version: str
    created_at: datetime


REQUIRED_TABLES = ("users", "exchange_connections", "snapshot_data", "data_encryption_keys")


def utc(value: datetime) -> datetime:
    """TIMESTAMP(3) without time zone holds UTC (Prisma writes UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _finite(value: Any) -> float:
    number = float(value) if value is not None else 0.0
    return number if math.isfinite(number) else math.nan


class LegacySource:
    """One read-only connection to the original's database."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._url = _libpq_url(url)
        try:
            self._conn = psycopg.connect(self._url, autocommit=False, connect_timeout=10)
        except psycopg.Error as exc:
            raise SourceError(f"cannot open the source database {_safe(url)} ({_first_line(exc)}): "
                              "check --from") from None
        self._conn.read_only = True
        self._tables = self._existing_tables()
        missing = [t for t in REQUIRED_TABLES if t not in self._tables]
        if missing:
            raise SourceError(f"the source has no table {', '.join(missing)}: --from must be the original's database")
        self._has_exclude = "excludeFromReport" in self._columns("exchange_connections")

    def close(self) -> None:
        self._conn.rollback()
        self._conn.close()

    def __enter__(self) -> LegacySource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def _existing_tables(self) -> set[str]:
        return {r[0] for r in self._rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}

    def _columns(self, table: str) -> set[str]:
        return {r[0] for r in self._rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s", (table,))}

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def active_deks(self) -> list[WrappedDek]:
        rows = self._rows('SELECT id, "encryptedDEK", iv, "authTag", "keyVersion", "masterKeyId" '
                          'FROM data_encryption_keys WHERE "isActive" ORDER BY "createdAt" DESC')
        return [WrappedDek(*r) for r in rows]

    def users(self) -> list[LegacyUser]:
        rows = self._rows('SELECT id, uid, "syncIntervalMinutes", "createdAt" FROM users ORDER BY "createdAt", id')
        return [LegacyUser(r[0], r[1], int(r[2]), utc(r[3])) for r in rows]

    def connections(self, user_uids: Sequence[str]) -> list[LegacyConnection]:
        exclude = '"excludeFromReport"' if self._has_exclude else "false"
        rows = self._rows(
            'SELECT id, "userUid", exchange, label, "encryptedApiKey", "encryptedApiSecret", "encryptedPassphrase", '
            f'"credentialsHash", "isActive", {exclude}, "createdAt", "updatedAt" FROM exchange_connections '
            'WHERE "userUid" = ANY(%s) ORDER BY "createdAt", id', (list(user_uids),))
        return [LegacyConnection(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), bool(r[9]), utc(r[10]),
                                 utc(r[11])) for r in rows]

    def snapshots(self, user_uids: Sequence[str]) -> list[LegacySnapshot]:
        rows = self._rows(
            'SELECT id, "userUid", "timestamp", exchange, "totalEquity", "realizedBalance", "unrealizedPnL", '
            'deposits, withdrawals, breakdown_by_market, "createdAt", "updatedAt" FROM snapshot_data '
            'WHERE "userUid" = ANY(%s) ORDER BY "userUid", exchange, "timestamp", id', (list(user_uids),))
        return [LegacySnapshot(r[0], r[1], utc(r[2]), r[3], _finite(r[4]), _finite(r[5]), _finite(r[6]),
                               _finite(r[7]), _finite(r[8]), _json(r[9]), utc(r[10]), utc(r[11])) for r in rows]

    def sync_records(self, user_uids: Sequence[str]) -> list[LegacySyncRecord]:
        out: list[LegacySyncRecord] = []
        if self.has_table("sync_statuses"):
            out += [LegacySyncRecord("sync_statuses", r[0], r[1], r[2], utc(r[3]) if r[3] else None, str(r[4]),
                                     int(r[5] or 0))
                    for r in self._rows('SELECT id, "userUid", exchange, "lastSyncTime", status::text, "totalTrades" '
                                        'FROM sync_statuses WHERE "userUid" = ANY(%s) ORDER BY id', (list(user_uids),))]
        if self.has_table("sync_rate_limit_logs"):
            out += [LegacySyncRecord("sync_rate_limit_logs", r[0], r[1], r[2], utc(r[3]), None, int(r[4] or 0))
                    for r in self._rows('SELECT id, "userUid", exchange, "lastSyncTime", "syncCount" '
                                        'FROM sync_rate_limit_logs WHERE "userUid" = ANY(%s) ORDER BY id',
                                        (list(user_uids),))]
        return out

    def signed_reports(self, user_uids: Sequence[str]) -> list[LegacySignedReport]:
        if not self.has_table("signed_reports"):
            return []
        rows = self._rows(
            'SELECT id, "reportId", "userUid", "startDate", "endDate", benchmark, "reportData", signature, '
            '"reportHash", "enclaveVersion", "createdAt" FROM signed_reports WHERE "userUid" = ANY(%s) '
            'ORDER BY "createdAt", id', (list(user_uids),))
        return [LegacySignedReport(r[0], r[1], r[2], utc(r[3]), utc(r[4]), r[5] or None, _json(r[6]), r[8], r[9],
                                   utc(r[10])) for r in rows]

    def counts(self) -> dict[str, int]:
        tables = [t for t in ("users", "exchange_connections", "snapshot_data", "sync_statuses",
                              "sync_rate_limit_logs", "signed_reports", "data_encryption_keys") if t in self._tables]
        return {t: int(self._rows(f'SELECT count(*) FROM "{t}"')[0][0]) for t in tables}


def batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs too (postgresql+psycopg://): libpq knows only postgresql://."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith(("postgresql", "postgres")):
        raise SourceError("--from must be a PostgreSQL URL such as postgresql://user@host:5432/dbname")
    return f"postgresql://{rest}"


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(_libpq_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return "(unparsable URL)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
