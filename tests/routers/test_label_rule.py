"""A label that breaks the rule is refused with the rule in words (the message used to quote the regex),
and the OpenAPI still carries the pattern for client generators."""

from __future__ import annotations

import httpx
import pytest

from app.core.labels import LABEL_PATTERN, LABEL_RULE

ENVELOPE = {"ephemeralPublicKey": "x", "iv": "x", "ciphertext": "x", "tag": "x"}


@pytest.mark.parametrize("label", [" leading-space", "trailing-space ", "a/b", "x" * 65, "tab\there", "line\n"])
async def test_a_bad_label_is_refused_with_the_rule_in_words(app_client: httpx.AsyncClient, label: str) -> None:
    response = await app_client.post("/api/v1/credentials/connect", json={
        "user_uid": "user_abcdefgh12", "exchange": "binance", "label": label, "encrypted": ENVELOPE})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message == f"label: must be {LABEL_RULE}"
    assert "[A-Za-z" not in message


async def test_the_openapi_keeps_the_label_pattern(app_client: httpx.AsyncClient) -> None:
    schema = (await app_client.get("/openapi.json")).json()
    label = schema["components"]["schemas"]["ConnectRequest"]["properties"]["label"]["anyOf"][0]
    assert label["pattern"] == LABEL_PATTERN and label["description"] == LABEL_RULE
