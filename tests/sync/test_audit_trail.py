"""sync_events is append-only, shown three ways:

1. the database refuses UPDATE and DELETE on it (migration 0002 triggers, SQLite and PostgreSQL), so
   no code path — ours, a library's, an operator's ad-hoc SQL — can rewrite the audit trail silently;
2. the application's source has exactly one place that writes the table, and it only inserts: an AST
   scan of app/ for SyncEvent construction, SQL update/delete constructs and raw SQL naming the table;
3. every statement the sync tests execute is watched (autouse fixture in conftest): none is an
   UPDATE or DELETE of sync_events.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import unit_of_work
from app.services.scheduler import run_daily_sync
from tests.conftest import REPO_ROOT
from tests.sync.conftest import SyncApp, add_connection

APP = REPO_ROOT / "app"


async def test_the_database_refuses_to_change_audit_rows(sync_app: SyncApp) -> None:
    await add_connection(sync_app)
    await run_daily_sync(sync_app.runtime, now=datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC))
    for sql in ("UPDATE sync_events SET outcome = 'success'", "DELETE FROM sync_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with unit_of_work(sync_app.state.sessionmaker) as session:
                await session.exec(text(sql))  # type: ignore[call-overload]
    async with sync_app.state.sessionmaker() as session:
        rows = (await session.exec(text("SELECT outcome FROM sync_events"))).all()  # type: ignore[call-overload]
    assert [r[0] for r in rows] == ["success"]


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(APP.rglob("*.py"))]


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_only_record_event_constructs_audit_rows() -> None:
    builders = []
    for path, tree in _modules():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any(isinstance(n, ast.Call) and _name(n.func) == "SyncEvent" for n in ast.walk(func)):
                builders.append(f"{path.relative_to(REPO_ROOT)}::{func.name}")
    assert builders == ["app/services/sync.py::record_event"]


def test_no_update_or_delete_of_sync_events_in_the_application() -> None:
    offenders = []
    table = re.compile(r"\b(update|delete\s+from)\s+\"?sync_events", re.IGNORECASE)
    for path, tree in _modules():
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO_ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and _name(node.func) in ("update", "delete"):
                targets = {_name(a) for a in node.args}
                if targets & {"SyncEvent", "sync_events"} or _name(node.func) == "delete" and not node.args:
                    offenders.append(where)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and table.search(node.value):
                offenders.append(where)
    assert offenders == []


def test_session_delete_is_never_used_on_audit_rows() -> None:
    """Modules that touch SyncEvent never delete objects through a session, nor assign to an event's fields."""
    offenders = []
    for path, tree in _modules():
        if "SyncEvent" not in path.read_text():
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "delete":
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and _name(target.value) in ("event", "attempt"):
                        offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
