"""The original's signed reports, as imported (legacy_reports): served as they were signed."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import NotFound
from app.models import LegacyReport


async def legacy_report_document(session: AsyncSession, report_id: str) -> dict[str, Any]:
    """The original's `reportData` verbatim ({financialData, reportHash, signature, publicKey, ...}): it
    verifies by hash and signature (POST /reports/verify, `zka report verify`), with no hardware evidence."""
    row = (await session.exec(select(LegacyReport).where(LegacyReport.report_id == report_id))).first()
    if row is None:
        raise NotFound("report not found")
    return dict(row.document)
