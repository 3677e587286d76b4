"""RFC 8785 (JCS) canonical JSON: the one function every signature, hash and verifier goes through.

Byte-identical to the `rfc8785` library (the reference in tests/reports/test_canonical_json.py), about
fifty times faster on a signed report: a short Python pass prepares the value (keys ordered by UTF-16
code units, every float that orjson would not already print the ECMAScript way turned into an int or a
raw `orjson.Fragment` of its ECMAScript text), then orjson (compiled, well kept) writes everything.

Why the pass is needed: orjson prints the shortest round-trip digits, as ECMAScript Number::toString
does, but it prints integral floats as "1.0" (ECMAScript: "1"), -0.0 as "-0.0" ("0"), and switches to
exponent form at 1e16 (ECMAScript at 1e21). Only those floats are rewritten; in [1e-4, 1e16) a
non-integral float's text is already the ECMAScript one (the pass keeps a narrower band than
orjson's plain range on purpose: below 1e-4 it formats them itself). Strings: orjson escapes exactly
what JSON.stringify escapes (`"`, `\\`, controls, with the short forms \\b \\t \\n \\f \\r and
lower-case \\u00xx) and writes the rest as UTF-8. Errors are the rfc8785 library's own exception
classes, so callers keep a single error taxonomy.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
import rfc8785
from rfc8785 import CanonicalizationError, FloatDomainError, IntegerDomainError

__all__ = ["CanonicalizationError", "canonical_json", "ecmascript_number"]

_SAFE_INT: Final = 2**53 - 1
_PLAIN_LOW: Final = 1e-4  # below this the pass formats floats itself (orjson and ECMAScript agree, but
#                            nothing is gained by relying on a third threshold)
_PLAIN_HIGH: Final = 1e16  # orjson switches to exponent form from here, ECMAScript from 1e21



def ecmascript_number(value: float) -> str:
    """ECMAScript Number::toString of a finite float (RFC 8785 §3.2.2.3), from Python's shortest
    round-trip digits; -0 is "0"."""
    if value == 0:
        return "0"
    if value < 0:
        return "-" + ecmascript_number(-value)
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    # value = 0.<digits> × 10^point (ECMAScript's s, k and n)
    if whole != "0":
        point = len(whole) + (int(exp_text) if exp_text else 0)
        digits = (whole + fraction).rstrip("0")
    else:  # "0.000123": only without an exponent
        significant = fraction.lstrip("0")
        point = len(significant) - len(fraction)
        digits = significant.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    exponent = point - 1
    sign = "+" if exponent >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(exponent)}"


class _Prepared:
    """One canonicalisation: floats that need an ECMAScript form are replaced by their text as a raw
    orjson fragment."""

    __slots__ = ()

    def float_(self, value: float) -> Any:
        magnitude = value if value >= 0 else -value
        if _PLAIN_LOW <= magnitude < _PLAIN_HIGH:
            # repr is the ECMAScript form unless integral ("5.0"); int() of an integral float below
            # 2^53 is exact and prints the same digits.
            return int(value) if value.is_integer() else value
        if value != value or magnitude == float("inf"):
            raise FloatDomainError(value)
        if value == 0:
            return 0
        if magnitude <= _SAFE_INT and value.is_integer():
            return int(value)
        return orjson.Fragment(ecmascript_number(value))

    def value(self, node: Any) -> Any:
        kind = type(node)
        if kind is str or node is None or kind is bool:
            return node
        if kind is float:
            return self.float_(node)
        if kind is int:
            if -_SAFE_INT <= node <= _SAFE_INT:
                return node
            raise IntegerDomainError(node)
        if kind is dict:
            return self.object(node)
        if kind is list or kind is tuple:
            return [self.value(item) for item in node]
        return self.subclass(node)

    def object(self, node: dict[Any, Any]) -> dict[str, Any]:
        order = _key_order(node)
        out = {}
        for key in order:
            item = node[key]
            kind = type(item)
            # Inlined for the common leaves (a report is mostly {"date", "return", "nav"} rows).
            if kind is str:
                out[key] = item
            elif kind is float and _PLAIN_LOW <= abs(item) < _PLAIN_HIGH and not item.is_integer():
                out[key] = item
            else:
                out[key] = self.value(item)
        return out

    def subclass(self, node: Any) -> Any:
        """Subclasses of the JSON types (str/int enums, OrderedDict, named tuples), as rfc8785 reads them."""
        if isinstance(node, bool):
            return bool(node)
        if isinstance(node, str):
            return node
        if isinstance(node, int):
            return self.value(int(node))
        if isinstance(node, float):
            return self.float_(float(node))
        if isinstance(node, dict):
            return self.object(dict(node))
        if isinstance(node, (list, tuple)):
            return [self.value(item) for item in node]
        raise CanonicalizationError(f"unsupported type: {type(node)}")


def _utf16(key: str) -> bytes:
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("input contains non-UTF-8 codepoints") from exc


_ORDERS: dict[tuple[str, ...], list[str]] = {}  # key set as given → keys in UTF-16 order
_ORDERS_MAX: Final = 4096  # reports repeat a few shapes; verify inputs are arbitrary, so bounded


def _key_order(node: dict[Any, Any]) -> list[str]:
    """The dict's keys in UTF-16 code-unit order; CanonicalizationError for a key that is not a str."""
    given = tuple(node)
    order = _ORDERS.get(given)
    if order is not None:
        try:  # a non-str key equal to a cached str key (custom __eq__) still fails here
            "".join(given)
        except TypeError:
            raise CanonicalizationError("object keys must be strings") from None
        return order
    keys = list(given)
    for key in keys:
        if not isinstance(key, str):
            raise CanonicalizationError("object keys must be strings")
    if all(key.isascii() for key in keys):
        keys.sort()  # code points and UTF-16 code units order ASCII alike
    else:
        keys.sort(key=_utf16)
    if len(_ORDERS) >= _ORDERS_MAX:
        _ORDERS.clear()
    _ORDERS[given] = keys
    return keys


class _FullPass(Exception):
    """Raised by the in-place pass for anything it does not handle itself (a key outside the range
    where code-point and UTF-16 order agree, a non-str key, a subclass of a JSON type, NaN, an
    out-of-range int): the full pass then decides, with the reference library's errors."""


# Keys below U+D800 sort alike by code points (orjson) and by UTF-16 units, and hold no lone surrogate.
_KEY_ORDER_SAFE: Final = "\ud800"


def _fast_float(value: float) -> Any:
    magnitude = value if value >= 0 else -value
    if _PLAIN_LOW <= magnitude < _PLAIN_HIGH:
        return int(value) if value.is_integer() else value
    if value == 0:
        return 0
    if value != value or magnitude == float("inf"):
        raise _FullPass
    if magnitude <= _SAFE_INT and value.is_integer():
        return int(value)
    return orjson.Fragment(ecmascript_number(value))


def _fast_value(node: Any) -> Any:
    """The value with only what must change replaced (copy on write): most of a report is returned as
    is, and orjson's own key sort orders it."""
    kind = type(node)
    if kind is str or node is None or kind is bool:
        return node
    if kind is float:
        return _fast_float(node)
    if kind is int:
        if -_SAFE_INT <= node <= _SAFE_INT:
            return node
        raise _FullPass
    if kind is dict:
        return _fast_object(node)
    if kind is list or kind is tuple:
        out = None
        for i, item in enumerate(node):
            new = _fast_value(item)
            if new is not item:
                if out is None:
                    out = list(node)
                out[i] = new
        return node if out is None else out
    raise _FullPass


def _fast_object(node: dict[Any, Any]) -> dict[Any, Any]:
    out = None
    for key, item in node.items():
        if type(key) is not str or not (key.isascii() or max(key, default="") < _KEY_ORDER_SAFE):
            raise _FullPass
        kind = type(item)
        # inlined for the common leaves (a report is mostly {"date", "return", "nav"} rows)
        if kind is str or (kind is float and _PLAIN_LOW <= abs(item) < _PLAIN_HIGH and not item.is_integer()):
            continue
        new = _fast_value(item)
        if new is not item:
            if out is None:
                out = dict(node)
            out[key] = new
    return node if out is None else out


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of obj as UTF-8 bytes. Raises rfc8785.CanonicalizationError (a
    ValueError) for NaN/±inf, integers beyond ±(2^53 − 1), non-string keys, lone surrogates and
    types JSON has no form for."""
    try:
        try:
            return orjson.dumps(_fast_value(obj), option=orjson.OPT_SORT_KEYS)
        except _FullPass:
            return orjson.dumps(_Prepared().value(obj))  # keys ordered by UTF-16 units by the pass
    except RecursionError as exc:
        raise CanonicalizationError("value is nested too deeply (or contains itself)") from exc
    except TypeError:  # orjson.JSONEncodeError is one
        # The passes admit only JSON types, so orjson refuses just a lone surrogate (not UTF-8) or
        # nesting past its 254 levels: the reference library decides those, with its own error or,
        # for deep nesting it can still write, the same bytes.
        try:
            out: bytes = rfc8785.dumps(obj)
        except RecursionError as exc:
            raise CanonicalizationError("value is nested too deeply (or contains itself)") from exc
        except UnicodeEncodeError as exc:
            raise CanonicalizationError("input contains non-UTF-8 codepoints") from exc
        return out
