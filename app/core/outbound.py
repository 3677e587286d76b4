"""The enclave's own outbound HTTPS client (AMD KDS, benchmark prices), created on first use.

Most starts never call out (development, or a VCEK supplied by the host), and the client costs ~40 ms of
start-up and ~3 MB (httpcore, the CA store). Venue connectors build their own clients per sync.
Verification is httpx's default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR where the host sets them).
"""

from __future__ import annotations

import httpx


class OutboundHttp:
    def __init__(self, *, timeout_s: float = 20.0) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
