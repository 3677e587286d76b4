"""The original's signed reports, as imported (legacy_reports): served to their owner as they were signed."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import LegacyReport


async def legacy_reports(session: AsyncSession, user_uid: str) -> list[dict[str, Any]]:
    """Each with the original's `reportData` verbatim ({financialData, reportHash, signature, publicKey, ...}):
    it verifies by hash and signature (POST /reports/verify, `zka report verify`), with no hardware evidence."""
    rows = await session.exec(select(LegacyReport).where(LegacyReport.user_uid == user_uid)
                              .order_by(col(LegacyReport.period_end), col(LegacyReport.id)))
    return [{"report_id": r.report_id, "period_start": r.period_start.isoformat(),
             "period_end": r.period_end.isoformat(), "benchmark": r.benchmark, "document": r.document}
            for r in rows.all()]
