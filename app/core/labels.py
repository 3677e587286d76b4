"""The rule for connection labels, in one place: the API validates with it, and the CLI checks it before
it asks for any secret. The words are what users read; the pattern is what code and the OpenAPI use."""

from __future__ import annotations

import re

LABEL_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9 _.\-]{0,62}[A-Za-z0-9_.\-])?$"
LABEL_RULE = (
    "1-64 characters: letters, digits, spaces and . _ -, starting with a letter or digit and not ending "
    "with a space"
)
_LABEL = re.compile(LABEL_PATTERN)


def is_valid_label(value: str) -> bool:
    return bool(_LABEL.fullmatch(value))
