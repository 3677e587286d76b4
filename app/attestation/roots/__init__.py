"""Pinned AMD root keys (ARK) per product line, plus AMD's intermediates as a convenience.

Trust is anchored ONLY in the ARKs below, and each PEM file is itself checked against a SHA-256
fingerprint written in this file (reference §3.2, identical in go-sev-guest and virtee/sev), so a
swapped file in a build cannot silently move the root. ASK/ASVK are shipped so that evidence without
a host cert table can still be verified offline; they are always re-verified against the ARK.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Final

from cryptography import x509

from app.attestation.certs import der, load_cert

PRODUCTS: Final = ("Milan", "Genoa", "Turin")

# SHA-256 of the DER certificate.
ARK_SHA256: Final[dict[str, str]] = {
    "Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}
ASK_SHA256: Final[dict[str, str]] = {
    "Milan": "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
    "Genoa": "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
    "Turin": "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
}


class RootIntegrityError(RuntimeError):
    """A shipped root PEM does not match its pinned fingerprint: the build is corrupted."""


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def _load_checked(kind: str, product: str, pinned: dict[str, str] | None) -> x509.Certificate:
    cert = load_cert(_read(f"{kind}_{product.lower()}.pem"))
    if pinned is not None and hashlib.sha256(der(cert)).hexdigest() != pinned[product]:
        raise RootIntegrityError(f"shipped {kind.upper()} for {product} does not match its pinned hash")
    return cert


@cache
def ark(product: str) -> x509.Certificate:
    return _load_checked("ark", product, ARK_SHA256)


@cache
def ask(product: str) -> x509.Certificate:
    return _load_checked("ask", product, ASK_SHA256)


@cache
def asvk(product: str) -> x509.Certificate:
    # Not fingerprint-pinned: it carries no trust of its own, the verifier checks it against the ARK.
    return _load_checked("asvk", product, None)


def pinned_arks() -> dict[str, x509.Certificate]:
    return {p: ark(p) for p in PRODUCTS}
