"""Scalar types for API responses: money as exact fixed-point strings, timestamps always UTC-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:f}", return_type=str, when_used="json")]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
