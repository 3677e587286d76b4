"""IBKR through the Flex Web Service (read-only reporting API).

Credentials: `api_key` = Flex Web Service **token**, `api_secret` = Flex **query id** (or
`extra["query_id"]`, which wins when both are set). The query must be an Activity Flex query with at least
"Net Asset Value (NAV) in Base" (EquitySummaryByReportDateInBase); add Trades, Cash Transactions,
Transfers and Open Positions for volume, flows and unrealized P&L. Its period decides how far back the backfill reaches
(e.g. "Last 365 Calendar Days").

Protocol (two steps, both GET with `User-Agent: Java`, which IB's clients send and IB reportedly requires):
1. `{base}/AccountManagement/FlexWebService/SendRequest?v=3&t=TOKEN&q=QUERY` -> reference code + Url;
2. `{Url}?v=3&t=TOKEN&q=REFERENCE` -> the statement, or Warn/1019 "generation in progress" (poll).
With a base_url override both steps go to the override host, keeping IB's paths. Without one, the Url from
step 1 is used only if it is an https interactivebrokers.com address (the token rides in its query string).

The token travels in URLs, so: exception messages never include URLs or httpx error text, exceptions are
raised `from None` (no chained httpx error in tracebacks), and a logging filter masks `t=` in httpx's own
request log lines.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx

from app.connectors import ibkr_flex
from app.connectors.base import (
    AccountState,
    AuthError,
    ConnectorError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    EquityPoint,
    Permission,
    RateLimited,
    VenueUnavailable,
)
from app.connectors.tls import shared_tls_context

DEFAULT_BASE_URL = "https://ndcdyn.interactivebrokers.com"
SEND_PATH = "/AccountManagement/FlexWebService/SendRequest"
STATEMENT_PATH = "/AccountManagement/FlexWebService/GetStatement"
MAX_BODY_BYTES = 32 * 1024 * 1024  # a year of executions is a few MB; refuse absurd bodies

# Error codes from IB's Flex Web Service documentation (fixtures/ibkr/web-service/ibflex_error_codes.json).
AUTH_CODES = {"1011": "service account is inactive", "1012": "the Flex token has expired",
              "1013": "IP restriction on the Flex token", "1015": "the Flex token is invalid"}
QUERY_CODES = {"1003": "statement is not available", "1010": "legacy Flex queries are not supported",
               "1014": "the Flex query is invalid", "1016": "the account is invalid",
               "1020": "invalid request or the query could not be validated"}
NOT_READY_CODES = {"1004", "1005", "1006", "1007", "1008", "1009", "1019", "1021"}
THROTTLED_CODE = "1018"

# Poll delays (seconds) while the statement is generated: quick at first, then patient; bounded by
# max_wait_s overall. 1018 (throttled: IB allows about 1 request/s and 10/min per token) waits longer.
POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 15.0, 20.0, 30.0)
THROTTLE_DELAYS = (10.0, 30.0)

Sleep = Callable[[float], Awaitable[None]]


class FlexQueryError(AuthError):
    """The query id (part of the user's credentials) is wrong or unusable: the user must fix the query."""

    kind = "auth"


# ------------------------------------------------------------------------------------ log redaction

_TOKEN_PARAM = re.compile(r"([?&]t=)[^&\s\"']+")


def _mask_url_text(value: object) -> object:
    text = str(value)
    return _TOKEN_PARAM.sub(r"\1***", text) if "t=" in text else value


class _MaskFlexToken(logging.Filter):
    """httpx logs every request URL at INFO; Flex URLs carry the token in `t=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_url_text(arg) for arg in record.args)
        if isinstance(record.msg, str) and "t=" in record.msg:
            record.msg = _TOKEN_PARAM.sub(r"\1***", record.msg)
        return True


def _install_log_mask() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskFlexToken) for f in logger.filters):
        logger.addFilter(_MaskFlexToken())


_install_log_mask()


# -------------------------------------------------------------------------------------- connector






class IbkrFlexConnector:
    venue = "ibkr"

    def __init__(
        self,
        credentials: Credentials,
        options: ConnectorOptions,
        *,
        sleep: Sleep = asyncio.sleep,
        poll_delays: Sequence[float] = POLL_DELAYS,
        throttle_delays: Sequence[float] = THROTTLE_DELAYS,
        max_wait_s: float = 180.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = credentials.api_key.strip()
        self._query_id = (credentials.extra.get("query_id") or credentials.api_secret).strip()
        if not self._token or not self._query_id:
            raise AuthError("IBKR Flex needs the Flex token (api_key) and the query id (api_secret)")
        self._override = options.base_url.rstrip("/") if options.base_url else None
        self._base = self._override or DEFAULT_BASE_URL
        self._sleep = sleep
        self._poll_delays = tuple(poll_delays)
        self._throttle_delays = tuple(throttle_delays)
        self._max_wait_s = max_wait_s
        self._client = httpx.AsyncClient(
            timeout=options.timeout_s, headers={"User-Agent": "Java"}, follow_redirects=False,
            verify=shared_tls_context(), transport=transport,
        )
        # One statement per connector (= per sync): the initial sync asks for state and history.
        self._data: ibkr_flex.FlexData | None = None

    # -- protocol

    async def check_credentials(self) -> None:
        """Flex has no cheaper auth check than producing the statement; it is kept for the sync."""
        await self._statement()

    async def permissions(self) -> set[Permission]:
        """A Flex token can only produce reports: it can neither trade nor withdraw."""
        return {Permission.READ}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        first, last = window.days()
        return ibkr_flex.account_state(await self._statement(), first, last)

    async def fetch_history(self, *, days: int = 365) -> list[EquityPoint]:
        return ibkr_flex.history(await self._statement(), days)

    async def close(self) -> None:
        await self._client.aclose()

    # -- two-step protocol

    async def _statement(self) -> ibkr_flex.FlexData:
        if self._data is None:
            reference, url = await self._send_request()
            body = await self._poll_statement(reference, url)
            # Parsing a large statement is blocking CPU work: keep it off the event loop.
            self._data = await asyncio.to_thread(ibkr_flex.parse_statement, body)
        return self._data

    async def _send_request(self) -> tuple[str, str]:
        throttled = 0
        while True:
            response = await self._envelope(self._base + SEND_PATH, self._query_id)
            if response.status == "Success" and response.reference_code:
                return response.reference_code, self._statement_url(response.url)
            if response.error_code == THROTTLED_CODE and throttled < len(self._throttle_delays):
                await self._sleep(self._throttle_delays[throttled])
                throttled += 1
                continue
            raise self._error_for(response)

    async def _poll_statement(self, reference: str, url: str) -> bytes:
        waited, attempt, throttled = 0.0, 0, 0
        while True:
            body = await self._get(url, reference)
            if ibkr_flex.is_statement(body):
                return body
            response = ibkr_flex.parse_service_response(body)
            code = response.error_code or ""
            if code == THROTTLED_CODE and throttled < len(self._throttle_delays):
                delay = self._throttle_delays[throttled]
                throttled += 1
            elif code in NOT_READY_CODES:
                delay = self._poll_delays[min(attempt, len(self._poll_delays) - 1)]
                attempt += 1
                if waited + delay > self._max_wait_s:
                    raise VenueUnavailable(
                        f"IBKR Flex statement still not ready after {waited:.0f}s (code {code}); retry later")
            else:
                raise self._error_for(response)
            await self._sleep(delay)
            waited += delay

    def _statement_url(self, advertised: str | None) -> str:
        """Where step 2 goes. Never send the token to a host IB did not name (or to the override)."""
        if self._override:
            path = urlsplit(advertised).path if advertised else STATEMENT_PATH
            return self._override + (path or STATEMENT_PATH)
        if advertised:
            parts = urlsplit(advertised)
            host = parts.hostname or ""
            if parts.scheme == "https" and (host == "interactivebrokers.com"
                                            or host.endswith(".interactivebrokers.com")):
                return f"https://{host}{parts.path}"
        return DEFAULT_BASE_URL + STATEMENT_PATH

    async def _envelope(self, url: str, q: str) -> ibkr_flex.ServiceResponse:
        body = await self._get(url, q)
        return ibkr_flex.parse_service_response(body)

    async def _get(self, url: str, q: str) -> bytes:
        params = {"v": "3", "t": self._token, "q": q}
        try:
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code == 429:
                    raise RateLimited("IBKR Flex rate limit (HTTP 429)")
                if response.status_code >= 400:
                    raise VenueUnavailable(f"IBKR Flex answered HTTP {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise ibkr_flex.FlexParseError("IBKR Flex statement is larger than 32 MiB")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise VenueUnavailable("IBKR Flex timed out") from None
        except httpx.HTTPError as exc:  # the text of httpx errors may carry the URL, hence the token
            raise VenueUnavailable(f"IBKR Flex unreachable ({exc.__class__.__name__})") from None

    def _error_for(self, response: ibkr_flex.ServiceResponse) -> ConnectorError:
        code = response.error_code or ""
        if code in AUTH_CODES:
            hint = " (create a new token in Client Portal > Settings > Flex Web Service)" if code in (
                "1012", "1015") else ""
            return AuthError(f"IBKR Flex token problem: {AUTH_CODES[code]} (code {code}){hint}")
        if code in QUERY_CODES:
            return FlexQueryError(f"IBKR Flex query problem: {QUERY_CODES[code]} (code {code}); check the "
                                  "query id and that it is an Activity Flex query")
        if code == THROTTLED_CODE:
            return RateLimited("IBKR Flex throttled this token (code 1018); retry later")
        if code in NOT_READY_CODES or code == "1017":
            return VenueUnavailable(f"IBKR Flex could not produce the statement (code {code}); retry later")
        message = self._scrub(response.error_message)[:200]
        return ConnectorError(f"IBKR Flex error {code[:8] or response.status[:16]}: {message}")

    def _scrub(self, text: str) -> str:
        for secret in (self._token, self._query_id):
            if secret:
                text = text.replace(secret, "***")
        return text


def create(venue: str, credentials: Credentials, options: ConnectorOptions) -> IbkrFlexConnector:
    if venue != "ibkr":
        raise ValueError(f"ibkr connector cannot serve {venue[:32]!r}")
    return IbkrFlexConnector(credentials, options)
