"""The append-only `key_events` audit: every handoff attempt, on both sides, granted or refused. Also
logged. Never key bytes: ids, chip ids, measurements and the reason only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.attestation.report import AttestationReport
from app.core.logging import get_logger
from app.models import KeyEvent

log = get_logger("zka.keys")


def record(
    session: AsyncSession, *, action: str, outcome: str, reason: str, instance_master_key_id: str,
    peer: str | None = None, peer_master_key_id: str | None = None, peer_report: AttestationReport | None = None,
    dek_id: str | None = None,
) -> KeyEvent:
    event = KeyEvent(
        action=action, outcome=outcome, reason=reason[:500], instance_master_key_id=instance_master_key_id,
        peer=(peer or "")[:255] or None, peer_master_key_id=peer_master_key_id,
        peer_chip_id=peer_report.chip_id.hex() if peer_report else None,
        peer_measurement=peer_report.measurement.hex() if peer_report else None, dek_id=dek_id,
    )
    session.add(event)
    level = log.info if outcome in ("granted", "received", "done") else log.warning
    level("key handoff", action=action, outcome=outcome, reason=event.reason, peer=event.peer,
          peer_master_key_id=peer_master_key_id, dek_id=dek_id)
    return event
