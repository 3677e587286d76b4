from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.attestation import roots
from app.attestation.certs import common_name, der, load_pem_bundle, verify_pss
from tests.attestation._data import SEVSNP


@pytest.mark.parametrize("product", roots.PRODUCTS)
def test_pinned_ark_is_real_self_signed_amd_root(product: str) -> None:
    ark = roots.ark(product)
    assert hashlib.sha256(der(ark)).hexdigest() == roots.ARK_SHA256[product]
    assert common_name(ark) == f"ARK-{product}" and ark.issuer == ark.subject
    key = ark.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 4096
    verify_pss(ark, ark)  # RSA-PSS SHA-384 self-signature
    # identical to the copy go-sev-guest ships (independent source)
    suffix = "_vcek" if product == "Turin" else ""
    bundle = SEVSNP / f"go-sev-guest/ask_ark_{product.lower()}{suffix}.pem"
    assert der(ark) in {der(c) for c in load_pem_bundle(bundle.read_bytes())}


@pytest.mark.parametrize("product", roots.PRODUCTS)
def test_shipped_intermediates_chain_to_ark(product: str) -> None:
    verify_pss(roots.ark(product), roots.ask(product))
    verify_pss(roots.ark(product), roots.asvk(product))
    assert common_name(roots.asvk(product)) == f"SEV-VLEK-{product}"
