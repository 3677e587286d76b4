"""Finding a path leaf (VCEK/VLEK) → intermediate (ASK/ASVK) → trusted ARK.

Certificates handed over by the host (cert table, evidence JSON) are only *candidates*: a path is
accepted only if it ends in one of the caller's trusted roots, compared by exact DER bytes. A
self-signed certificate in the supplied chain is never used as a root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from app.attestation import roots
from app.attestation.certs import CertError, common_name, der, load_cert, verify_pss

CertLike = bytes | x509.Certificate


@dataclass(frozen=True)
class ChainPath:
    root_name: str  # "Milan" / "Genoa" / "Turin" / "simulated"
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate

    @property
    def certs(self) -> list[x509.Certificate]:
        return [self.leaf, self.intermediate, self.root]


class ChainError(ValueError):
    pass


def as_cert(c: CertLike) -> x509.Certificate:
    return c if isinstance(c, x509.Certificate) else load_cert(c)


def leaf_kind(leaf: x509.Certificate) -> str:
    """'VCEK' or 'VLEK' from the subject CN (AMD: CN=SEV-VCEK / CN=SEV-VLEK)."""
    cn = common_name(leaf)
    if cn == "SEV-VCEK":
        return "VCEK"
    if cn == "SEV-VLEK":
        return "VLEK"
    raise ChainError(f"signing certificate has unexpected subject CN {cn!r}")


def _signed_by(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        verify_pss(issuer, cert)
    except (InvalidSignature, CertError):
        return False
    return True


def _shipped_intermediates() -> list[x509.Certificate]:
    # AMD's own ASK/ASVK let us verify evidence that came without them (empty host cert table).
    return [getter(p) for p in roots.PRODUCTS for getter in (roots.ask, roots.asvk)]


def build_path(
    leaf: x509.Certificate,
    supplied: Sequence[x509.Certificate],
    trusted_roots: Mapping[str, x509.Certificate],
) -> ChainPath:
    """Return the first valid path from `leaf` to a trusted root, or raise ChainError explaining why not."""
    kind = leaf_kind(leaf)
    candidates = [c for c in supplied if c.issuer != c.subject] + _shipped_intermediates()
    for name, root in trusted_roots.items():
        if not _signed_by(root, root):
            raise ChainError(f"trusted root {name} is not validly self-signed")
        for inter in candidates:
            # A VCEK hangs under the ASK (CN SEV-<product>), a VLEK under the ASVK (SEV-VLEK-<product>).
            if ("VLEK" in common_name(inter)) != (kind == "VLEK"):
                continue
            if _signed_by(root, inter) and _signed_by(inter, leaf):
                return ChainPath(name, leaf, inter, root)
    return _explain_failure(leaf, kind, supplied, trusted_roots)


def _explain_failure(
    leaf: x509.Certificate,
    kind: str,
    supplied: Iterable[x509.Certificate],
    trusted_roots: Mapping[str, x509.Certificate],
) -> ChainPath:
    trusted_der = {der(r) for r in trusted_roots.values()}
    foreign = [common_name(c) for c in supplied if c.issuer == c.subject and der(c) not in trusted_der]
    hint = f"; supplied root(s) {foreign} are not trusted" if foreign else ""
    issuer_cn = leaf.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    issuer = str(issuer_cn[0].value) if issuer_cn else "?"
    raise ChainError(
        f"no valid path from the {kind} (issuer {issuer!r}) to a trusted ARK "
        f"({', '.join(trusted_roots) or 'none'}){hint}"
    )


def check_validity(path: ChainPath, now: datetime) -> list[str]:
    """Names of certificates in the path that are not valid at `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    bad = []
    for cert in path.certs:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            bad.append(
                f"{common_name(cert)} (valid {cert.not_valid_before_utc:%Y-%m-%d}"
                f"..{cert.not_valid_after_utc:%Y-%m-%d})"
            )
    return bad
