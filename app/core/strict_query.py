"""Unknown query parameters are refused, as unknown body fields are: a typo (`start_dat`) must not
silently fall back to a default period."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from app.errors import BadRequest

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
# The gateway may name the user on any call; CurrentUser reads it from the raw query and checks it
# against the token, so it is known everywhere even where a route does not declare it.
_ALWAYS_KNOWN = frozenset({"user_uid"})


def _declared(dependant: Any) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


async def reject_unknown_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    unknown = sorted(set(request.query_params) - _ALWAYS_KNOWN - _declared(dependant))  # a short walk
    if unknown:
        # Names are echoed only when they look like names: a confused client may put a secret there.
        shown = ", ".join(n for n in unknown if _SAFE_NAME.match(n)) or "(not shown)"
        raise BadRequest(f"unknown query parameter(s): {shown}", code="unknown_parameter")
