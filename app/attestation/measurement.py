"""The simulated provider's MEASUREMENT: a digest of the code actually installed.

Recipe (documented for auditors; `zka` computes it the same way):
    h = SHA-384()
    for each regular file under the installed `app/` package directory, sorted by its POSIX path
    relative to that directory, skipping `__pycache__` directories and `*.pyc` files:
        h.update(relpath as UTF-8 || 0x00 || len(content) as 8-byte big-endian || content)
    MEASUREMENT = h.digest()   (48 bytes, like a real SNP launch digest)

The path and length prefixes make the encoding unambiguous (no two file sets hash alike by moving
bytes between files). This is NOT a hardware measurement: it only lets a developer see that the
simulated report changes whenever the code changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

RECIPE: Final = (
    "SHA-384 over each regular file of the installed app/ package (excluding __pycache__/ and *.pyc), "
    "sorted by POSIX relative path: relpath UTF-8 || 0x00 || u64-BE length || content"
)


def package_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _files(root: Path) -> list[tuple[str, Path]]:
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        out.append((rel.as_posix(), path))
    return sorted(out)


def code_measurement(root: Path | None = None) -> bytes:
    h = hashlib.sha384()
    for rel, path in _files(root or package_root()):
        content = path.read_bytes()
        h.update(rel.encode() + b"\x00" + len(content).to_bytes(8, "big") + content)
    return h.digest()
