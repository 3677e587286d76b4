"""The one money type: Decimal, parsed from whatever a venue sends (str, int, float, None)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)


def to_decimal(value: object) -> Decimal:
    """Exact conversion; floats go through repr so 0.1 stays 0.1. None and '' are zero."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {str(value)[:32]!r}") from exc
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result
