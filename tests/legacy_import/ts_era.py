"""A TypeScript-era database, as a deployment of the original holds it.

DDL: what `prisma db push` (Prisma 6, PostgreSQL) creates from tests/data/fixtures/ts-original/schema.prisma:
@@map table names, Prisma's field names as quoted camelCase columns, String → TEXT, Float → DOUBLE
PRECISION, DateTime → TIMESTAMP(3) (no time zone, holding UTC), Json → JSONB, the enum as a PostgreSQL
type, @@unique/@@index as "<table>_<columns>_key"/"_idx" indexes, foreign keys ON DELETE CASCADE ON
UPDATE CASCADE. Later versions of the original added exchange_connections."excludeFromReport" (a flag
fixture adds it).

Encryption is written here independently of app/: the credential format of the original's
src/services/encryption-service.ts (AES-256-GCM, 16-byte IV, hex iv‖tag‖ciphertext, no AAD) and its
DEK wrapping and HKDF derivation from src/services/key-derivation.service.ts (at commit 100cf59), with
HKDF computed from RFC 5869 by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DDL = """
CREATE TYPE "SyncStatusEnum" AS ENUM ('pending', 'syncing', 'completed', 'error');
CREATE TABLE "users" (
    "id" TEXT NOT NULL, "uid" TEXT NOT NULL, "syncIntervalMinutes" INTEGER NOT NULL DEFAULT 1440,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE TABLE "snapshot_data" (
    "id" TEXT NOT NULL, "userUid" TEXT NOT NULL, "timestamp" TIMESTAMP(3) NOT NULL, "exchange" TEXT NOT NULL,
    "totalEquity" DOUBLE PRECISION NOT NULL, "realizedBalance" DOUBLE PRECISION NOT NULL,
    "unrealizedPnL" DOUBLE PRECISION NOT NULL, "deposits" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "withdrawals" DOUBLE PRECISION NOT NULL DEFAULT 0, "breakdown_by_market" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "snapshot_data_pkey" PRIMARY KEY ("id"));
CREATE TABLE "exchange_connections" (
    "id" TEXT NOT NULL, "userUid" TEXT NOT NULL, "exchange" TEXT NOT NULL, "label" TEXT NOT NULL,
    "encryptedApiKey" TEXT NOT NULL, "encryptedApiSecret" TEXT NOT NULL, "encryptedPassphrase" TEXT,
    "credentialsHash" TEXT, "isActive" BOOLEAN NOT NULL DEFAULT true,
    "syncIntervalMinutes" INTEGER NOT NULL DEFAULT 1440,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "exchange_connections_pkey" PRIMARY KEY ("id"));
CREATE TABLE "sync_statuses" (
    "id" TEXT NOT NULL, "userUid" TEXT NOT NULL, "exchange" TEXT NOT NULL, "lastSyncTime" TIMESTAMP(3),
    "status" "SyncStatusEnum" NOT NULL DEFAULT 'pending', "totalTrades" INTEGER NOT NULL DEFAULT 0,
    "errorMessage" TEXT, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "sync_statuses_pkey" PRIMARY KEY ("id"));
CREATE TABLE "sync_rate_limit_logs" (
    "id" TEXT NOT NULL, "userUid" TEXT NOT NULL, "exchange" TEXT NOT NULL, "lastSyncTime" TIMESTAMP(3) NOT NULL,
    "syncCount" INTEGER NOT NULL DEFAULT 1, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "sync_rate_limit_logs_pkey" PRIMARY KEY ("id"));
CREATE TABLE "data_encryption_keys" (
    "id" TEXT NOT NULL, "encryptedDEK" TEXT NOT NULL, "iv" TEXT NOT NULL, "authTag" TEXT NOT NULL,
    "keyVersion" TEXT NOT NULL, "masterKeyId" TEXT NOT NULL, "isActive" BOOLEAN NOT NULL DEFAULT true,
    "rotatedAt" TIMESTAMP(3), "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "data_encryption_keys_pkey" PRIMARY KEY ("id"));
CREATE TABLE "signed_reports" (
    "id" TEXT NOT NULL, "reportId" TEXT NOT NULL, "userUid" TEXT NOT NULL, "startDate" TIMESTAMP(3) NOT NULL,
    "endDate" TIMESTAMP(3) NOT NULL, "benchmark" TEXT, "reportData" JSONB NOT NULL, "signature" TEXT NOT NULL,
    "reportHash" TEXT NOT NULL, "enclaveVersion" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "signed_reports_pkey" PRIMARY KEY ("id"));
CREATE TABLE "migrations" (
    "id" SERIAL NOT NULL, "name" TEXT NOT NULL, "appliedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "migrations_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "users_uid_key" ON "users"("uid");
CREATE INDEX "snapshot_data_userUid_timestamp_idx" ON "snapshot_data"("userUid", "timestamp");
CREATE INDEX "snapshot_data_exchange_timestamp_idx" ON "snapshot_data"("exchange", "timestamp");
CREATE UNIQUE INDEX "snapshot_data_userUid_timestamp_exchange_key"
    ON "snapshot_data"("userUid", "timestamp", "exchange");
CREATE INDEX "exchange_connections_userUid_exchange_idx" ON "exchange_connections"("userUid", "exchange");
CREATE UNIQUE INDEX "exchange_connections_userUid_exchange_key" ON "exchange_connections"("userUid", "exchange");
CREATE UNIQUE INDEX "sync_statuses_userUid_exchange_key" ON "sync_statuses"("userUid", "exchange");
CREATE INDEX "sync_rate_limit_logs_lastSyncTime_idx" ON "sync_rate_limit_logs"("lastSyncTime");
CREATE UNIQUE INDEX "sync_rate_limit_logs_userUid_exchange_key" ON "sync_rate_limit_logs"("userUid", "exchange");
CREATE INDEX "data_encryption_keys_isActive_idx" ON "data_encryption_keys"("isActive");
CREATE INDEX "data_encryption_keys_masterKeyId_idx" ON "data_encryption_keys"("masterKeyId");
CREATE INDEX "signed_reports_userUid_idx" ON "signed_reports"("userUid");
CREATE INDEX "signed_reports_reportId_idx" ON "signed_reports"("reportId");
CREATE UNIQUE INDEX "signed_reports_reportId_key" ON "signed_reports"("reportId");
CREATE UNIQUE INDEX "signed_reports_userUid_startDate_endDate_benchmark_key"
    ON "signed_reports"("userUid", "startDate", "endDate", "benchmark");
CREATE UNIQUE INDEX "migrations_name_key" ON "migrations"("name");
ALTER TABLE "snapshot_data" ADD CONSTRAINT "snapshot_data_userUid_fkey" FOREIGN KEY ("userUid")
    REFERENCES "users"("uid") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "exchange_connections" ADD CONSTRAINT "exchange_connections_userUid_fkey" FOREIGN KEY ("userUid")
    REFERENCES "users"("uid") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sync_statuses" ADD CONSTRAINT "sync_statuses_userUid_fkey" FOREIGN KEY ("userUid")
    REFERENCES "users"("uid") ON DELETE CASCADE ON UPDATE CASCADE;
"""
EXCLUDE_FROM_REPORT_DDL = (
    'ALTER TABLE "exchange_connections" ADD COLUMN "excludeFromReport" BOOLEAN NOT NULL DEFAULT false')


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 by hand (Node's crypto.hkdfSync): an empty salt is HashLen zero bytes."""
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def ts_master_key(measurement_hex: str, platform_version: str = "") -> bytes:
    return hkdf_sha256(bytes.fromhex(measurement_hex), platform_version.encode(), b"track-record-enclave-dek")


def ts_encrypt(dek: bytes, text: str) -> str:
    """encryption-service.ts encrypt(): hex(iv(16) ‖ tag(16) ‖ ciphertext)."""
    iv = os.urandom(16)
    sealed = AESGCM(dek).encrypt(iv, text.encode(), None)
    return (iv + sealed[-16:] + sealed[:-16]).hex()


def ts_wrap_dek(dek: bytes, master: bytes) -> dict[str, str]:
    iv = os.urandom(12)
    sealed = AESGCM(master).encrypt(iv, dek, None)
    return {"encryptedDEK": base64.b64encode(sealed[:-16]).decode(), "iv": base64.b64encode(iv).decode(),
            "authTag": base64.b64encode(sealed[-16:]).decode(), "keyVersion": "v1",
            "masterKeyId": hashlib.sha256(master).hexdigest()[:16]}


def ts_credentials_hash(api_key: str, api_secret: str, passphrase: str | None = None) -> str:
    return hashlib.sha256(f"{api_key}:{api_secret}:{passphrase or ''}".encode()).hexdigest()


_ids = iter(range(1, 10**9))


def cuid(prefix: str = "c") -> str:
    return f"{prefix}{next(_ids):024d}"[:25]


@dataclass
class TsDatabase:
    """Rows to insert, built in Python, then written with plain SQL (as the original's Prisma client would)."""

    dek: bytes
    users: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    sync_statuses: list[dict[str, Any]] = field(default_factory=list)
    rate_limit_logs: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    deks: list[dict[str, Any]] = field(default_factory=list)

    def user(self, uid: str, created: datetime, interval: int = 1440) -> str:
        self.users.append({"id": cuid("u"), "uid": uid, "syncIntervalMinutes": interval, "createdAt": created,
                           "updatedAt": created})
        return uid

    def connection(self, uid: str, exchange: str, label: str, created: datetime, *, api_key: str, api_secret: str,
                   passphrase: str | None = None, active: bool = True, stored_key: str | None = None,
                   exclude: bool | None = None) -> dict[str, Any]:
        row = {"id": cuid("x"), "userUid": uid, "exchange": exchange, "label": label,
               "encryptedApiKey": stored_key or ts_encrypt(self.dek, api_key),
               "encryptedApiSecret": ts_encrypt(self.dek, api_secret),
               "encryptedPassphrase": ts_encrypt(self.dek, passphrase) if passphrase else None,
               "credentialsHash": ts_credentials_hash(api_key, api_secret, passphrase), "isActive": active,
               "syncIntervalMinutes": 1440, "createdAt": created, "updatedAt": created}
        if exclude is not None:
            row["excludeFromReport"] = exclude
        self.connections.append(row)
        return row

    def snapshot(self, uid: str, exchange: str, stamp: datetime, equity: float, *, created: datetime | None = None,
                 updated: datetime | None = None, deposits: float = 0.0, withdrawals: float = 0.0,
                 breakdown: Any = None) -> dict[str, Any]:
        created = created or stamp + timedelta(seconds=7)
        row = {"id": cuid("s"), "userUid": uid, "timestamp": stamp, "exchange": exchange, "totalEquity": equity,
               "realizedBalance": equity, "unrealizedPnL": 0.0, "deposits": deposits, "withdrawals": withdrawals,
               "breakdown_by_market": json.dumps(breakdown) if breakdown is not None else None,
               "createdAt": created, "updatedAt": updated or created}
        self.snapshots.append(row)
        return row

    def write(self, conn: Any) -> None:
        """psycopg connection to an empty database with DDL applied."""
        for table, rows in (("users", self.users), ("exchange_connections", self.connections),
                            ("snapshot_data", self.snapshots), ("sync_statuses", self.sync_statuses),
                            ("sync_rate_limit_logs", self.rate_limit_logs), ("signed_reports", self.reports),
                            ("data_encryption_keys", self.deks)):
            for row in rows:
                columns = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join(["%s"] * len(row))
                conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(row.values()))
