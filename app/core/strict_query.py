"""Unknown query parameters are refused, as unknown body fields are: a typo (`start_dat`) must not
silently fall back to a default period."""

from __future__ import annotations

import re
import typing
from typing import Any

from fastapi import Request

from app.errors import BadRequest

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
# The gateway may name the user on any call; CurrentUser reads it from the raw query and checks it
# against the token, so it is known everywhere even where a route does not declare it.
_ALWAYS_KNOWN = frozenset({"user_uid"})


def _declared(dependant: Any) -> dict[str, bool]:
    """Declared query names -> whether each may repeat (a list parameter)."""
    names = {field.alias: _is_list(field.field_info.annotation) for field in dependant.query_params}
    for sub in dependant.dependencies:
        names.update(_declared(sub))
    return names


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation)) if origin is not None else False


async def reject_unknown_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    declared = _declared(dependant)  # a short walk, only when there is a query
    unknown = sorted(set(request.query_params) - _ALWAYS_KNOWN - declared.keys())
    if unknown:
        # Names are echoed only when they look like names: a confused client may put a secret there.
        shown = ", ".join(n for n in unknown if _SAFE_NAME.match(n)) or "(not shown)"
        raise BadRequest(f"unknown query parameter(s): {shown}", code="unknown_parameter")
    # A repeated single-valued parameter is ambiguous (the framework would silently keep the last one).
    repeated = sorted({name for name, _ in request.query_params.multi_items()
                       if not declared.get(name, False) and len(request.query_params.getlist(name)) > 1})
    if repeated:
        raise BadRequest(f"query parameter(s) given more than once: {', '.join(repeated)}", code="repeated_parameter")
