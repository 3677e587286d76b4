"""The enclave's own outbound HTTPS client (AMD KDS, benchmark prices), created on first use.

Most starts never call out (development, or a VCEK supplied by the host), and the client costs ~40 ms of
start-up and ~3 MB (httpcore, the CA store). Venue connectors build their own clients per sync.
"""

from __future__ import annotations

import httpx

from app.connectors.tls import shared_tls_context


class OutboundHttp:
    def __init__(self, *, timeout_s: float = 20.0) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Verified against the process's one CA store, shared with the venue clients.
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False,
                                             verify=shared_tls_context())
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
