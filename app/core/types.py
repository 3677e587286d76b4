"""Strict request scalars shared by the routers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD: pydantic's lax parsing would read "0" or 1700000000 as a Unix timestamp."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.match(value):
        raise ValueError("dates are YYYY-MM-DD")
    return value


EARLIEST_DAY = date(2000, 1, 1)


def _within_bounds(value: date) -> date:
    """No track record starts before 2000 or ends after tomorrow (UTC); beyond them, date arithmetic
    (a default start a year before, a five-year span) would leave the calendar (year 0 or 10000)."""
    latest = datetime.now(UTC).date() + timedelta(days=1)
    if not EARLIEST_DAY <= value <= latest:
        raise ValueError(f"dates are between {EARLIEST_DAY} and {latest} (tomorrow, UTC)")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_within_bounds),
                    WithJsonSchema({"type": "string", "format": "date"})]


def _whole_number(value: Any) -> Any:
    """Ids are whole numbers written as digits: lax parsing would take "20.0" or true as an id."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("ids are whole numbers")
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("ids are whole numbers")
    return value


RowId = Annotated[int, BeforeValidator(_whole_number)]


def _true_or_false(value: Any) -> Any:
    """Query flags are `true` or `false`: pydantic's lax parsing would also take yes, on, 1 or t."""
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise ValueError("flags are true or false")


QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]
