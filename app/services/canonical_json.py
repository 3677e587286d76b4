"""RFC 8785 (JCS) canonical JSON: the one function every signature, hash and verifier goes through.

Byte-identical to the `rfc8785` library (the reference in tests/reports/test_canonical_json.py), about
ten times faster on a signed report: a short Python pass prepares the value (keys ordered by UTF-16
code units, every float the C encoder would not already print the ECMAScript way turned into an int
or a placeholder), then the stdlib's C-accelerated encoder writes the strings, ints and floats.

Why the pass is needed: the C encoder prints floats with Python's repr, which differs from
ECMAScript Number::toString only for integral floats ("1.0" vs "1"), for |x| < 1e-4 and |x| >= 1e16
(where the two switch between plain and exponent form at other thresholds) and for -0.0. Those are
rewritten here; every other finite float's repr is already the ECMAScript form (both are the
shortest round-trip digits). Errors are the rfc8785 library's own exception classes, so callers keep
a single error taxonomy.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any, Final

import rfc8785
from rfc8785 import CanonicalizationError, FloatDomainError, IntegerDomainError

__all__ = ["CanonicalizationError", "canonical_json", "ecmascript_number"]

_SAFE_INT: Final = 2**53 - 1
_PLAIN_LOW: Final = 1e-4  # repr switches to exponent form below this, ECMAScript below 1e-6
_PLAIN_HIGH: Final = 1e16  # repr switches to exponent form from here, ECMAScript from 1e21

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                                   check_circular=False, sort_keys=False)
_encode = _ENCODER.encode


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
    """One canonicalisation: floats that need an ECMAScript form are replaced by a string placeholder
    carrying a per-call random tag, swapped for the number text after encoding."""

    __slots__ = ("numbers", "tag")

    def __init__(self) -> None:
        self.tag = secrets.token_hex(16)
        self.numbers: list[str] = []

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
        self.numbers.append(ecmascript_number(value))
        return f"{self.tag}{len(self.numbers) - 1}"

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


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of obj as UTF-8 bytes. Raises rfc8785.CanonicalizationError (a
    ValueError) for NaN/±inf, integers beyond ±(2^53 − 1), non-string keys, lone surrogates and
    types JSON has no form for."""
    prepared = _Prepared()
    try:
        text = _encode(prepared.value(obj))
    except RecursionError as exc:
        raise CanonicalizationError("value is nested too deeply (or contains itself)") from exc
    if prepared.numbers:
        placed = _put_numbers(text, prepared)
        if placed is None:  # the random tag occurred in the input itself: take the reference path
            return rfc8785.dumps(obj)
        text = placed
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("input contains non-UTF-8 codepoints") from exc


def _put_numbers(text: str, prepared: _Prepared) -> str | None:
    """The text with each placeholder replaced by its number; None if the count does not match."""
    numbers = prepared.numbers
    seen = 0

    def number(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return numbers[int(match.group(1))]

    out = re.sub(f'"{prepared.tag}([0-9]+)"', number, text)
    return out if seen == len(numbers) else None
