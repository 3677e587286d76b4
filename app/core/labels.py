"""The rule for connection labels, in one place: the API validates with it, and the CLI checks it before
it asks for any secret. The words are what users read; the pattern is what code and the OpenAPI use."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

LABEL_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9 _.\-]{0,62}[A-Za-z0-9_.\-])?$"
LABEL_RULE = (
    "1-64 characters: letters, digits, spaces and . _ -, starting with a letter or digit and not ending "
    "with a space"
)
_LABEL = re.compile(LABEL_PATTERN)


def is_valid_label(value: str) -> bool:
    return bool(_LABEL.fullmatch(value))


def _check_label(value: str) -> str:
    if not is_valid_label(value):
        # The rule in words: pydantic's own message would quote the regex.
        raise PydanticCustomError("label", "must be {rule}", {"rule": LABEL_RULE})
    return value


# A request field: validated against the rule above, described in words, and the pattern in the OpenAPI.
Label = Annotated[str, AfterValidator(_check_label),
                  Field(description=LABEL_RULE, json_schema_extra={"pattern": LABEL_PATTERN})]
