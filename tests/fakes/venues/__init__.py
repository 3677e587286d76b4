"""Fakes of venues added one module each: `tests/fakes/venues/<venue>.py` (the ccxt venue id).

Each module exports
- `ADAPTER`: its `tests.fakes.ccxt_venues.Adapter` subclass (signatures, public paths, built-in markets);
- `E2E`: `(scenario builder, equity in USD)` for the end-to-end connect test
  (`tests/sync/test_every_ccxt_venue_connects.py`);
- `MALFORMED`: `(scenario builder, the "[METHOD ]path" its first wallet's balance is read from)` for
  `tests/sync/test_malformed_balance.py`.
The shared tables pick them up from here, so adding a venue touches no other venue's files.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).parent


def venue_modules() -> dict[str, ModuleType]:
    """Every venue module in this folder, by ccxt venue id."""
    names = sorted(p.stem for p in _HERE.glob("*.py") if not p.stem.startswith("_"))
    return {name: importlib.import_module(f"{__name__}.{name}") for name in names}


def table(attribute: str) -> dict[str, object]:
    """`{venue: module.<attribute>}` for the venue modules that define it."""
    return {venue: getattr(m, attribute) for venue, m in venue_modules().items() if hasattr(m, attribute)}
