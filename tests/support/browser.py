"""Headless Chromium for page tests: a page that collects console errors, warnings and page errors (a CSP
violation shows up there), over the live server's self-signed HTTPS."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class BrowserPage:
    page: Any  # playwright.async_api.Page
    problems: list[str] = field(default_factory=list)


@asynccontextmanager
async def chromium_page(*, width: int = 1100, height: int = 900) -> AsyncIterator[BrowserPage]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is required for browser tests (apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(ignore_https_errors=True, viewport={"width": width, "height": height})
            out = BrowserPage(await context.new_page())
            out.page.on("console", lambda m: out.problems.append(m.text) if m.type in ("error", "warning") else None)
            out.page.on("pageerror", lambda e: out.problems.append(str(e)))
            yield out
        finally:
            await browser.close()
