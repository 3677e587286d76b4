"""Which flows a connection has had counted: keyed hashes in `counted_flows` (issue 19, item 13).

A sync reads the connection's hashes before fetching (ConnectorOptions.flow_memory); the connector
counts only completed flows not among them and returns the new hashes (AccountState.counted_flows),
stored here in the same unit of work as the snapshot that counted them. The HMAC key is derived from
the DEK, so the table says nothing about a flow to anyone without the enclave's keys.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import AccountState, FlowMemory
from app.models import CountedFlow
from app.services.crypto import Dek

_FLOW_KEY_INFO = b"zka/flow-id/v1"


def flow_key(dek: Dek) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FLOW_KEY_INFO).derive(dek.key)


def fresh_flow_memory(dek: Dek) -> FlowMemory:
    """A connection being connected: nothing counted yet; its first fetch records the opening balance's."""
    return FlowMemory(flow_key(dek))


async def load_flow_memory(session: AsyncSession, dek: Dek, connection_id: int) -> FlowMemory:
    rows = await session.exec(select(CountedFlow.flow_hash).where(col(CountedFlow.connection_id) == connection_id))
    return FlowMemory(flow_key(dek), frozenset(rows.all()))


def remember_flows(session: AsyncSession, connection_id: int, state: AccountState) -> None:
    """Add (the caller's unit of work commits with the snapshot) the hashes this fetch counted or recorded."""
    rows = [CountedFlow(connection_id=connection_id, flow_hash=digest) for digest in sorted(state.counted_flows)]
    session.add_all(rows)
