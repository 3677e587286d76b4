"""Master-key providers (SPEC §2, §5). The master key wraps the DEK and sealed keys; it is never stored
in the database and, in production, never stored anywhere: the AMD secure processor derives it.

Never derive it from public data (the launch measurement is public: both earlier systems did that).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Protocol

from app.services.crypto.errors import MasterKeyError
from app.services.crypto.snp_derived_key import SnpDerivedKeyProvider, SnpKeyConfig

KEY_LEN = 32
KEY_FILE_NAME = "master.key"


class MasterKeyProvider(Protocol):
    source: str

    async def load(self) -> bytes: ...


def master_key_id(key: bytes) -> str:
    """Public identifier of a master key: first 8 bytes of SHA-256, hex (same as the earlier systems)."""
    return hashlib.sha256(key).digest()[:8].hex()


class HexMasterKeyProvider:
    """Development: a key handed in as 64 hex characters (ZKA_MASTER_KEY). Refused in production."""

    source = "env"

    def __init__(self, hex_key: str) -> None:
        self._hex = hex_key

    async def load(self) -> bytes:
        value = self._hex.strip()
        if len(value) != 2 * KEY_LEN or any(c not in "0123456789abcdefABCDEF" for c in value):
            raise MasterKeyError("ZKA_MASTER_KEY must be exactly 64 hex characters (32 bytes)")
        return bytes.fromhex(value)


class FileMasterKeyProvider:
    """Development: 32 random bytes in <data_dir>/master.key, mode 0600, created on first start."""

    source = "file"

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / KEY_FILE_NAME

    async def load(self) -> bytes:
        return await asyncio.to_thread(load_or_create_key_file, self.path)


def load_or_create_key_file(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    _create_key_file(path)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        # ELOOP: a symlink, which O_NOFOLLOW refuses so the key cannot be redirected elsewhere.
        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise MasterKeyError(f"cannot use master key file {path}: {reason}") from None
    try:
        info = os.fstat(fd)
        _check_key_file(path, info)
        data = os.read(fd, KEY_LEN + 1)
    finally:
        os.close(fd)
    if len(data) != KEY_LEN:
        raise MasterKeyError(f"{path} must hold exactly {KEY_LEN} bytes; refusing to use it")
    return data


def _check_key_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise MasterKeyError(f"{path} is not a regular file; refusing to use it")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise MasterKeyError(f"{path} has mode {mode:04o}; it must be 0600 (run: chmod 600 {path})")
    if info.st_uid != os.geteuid():
        raise MasterKeyError(f"{path} is not owned by the service user; refusing to use it")


def _create_key_file(path: Path) -> None:
    # Write the full key to a private temp file, then hard-link it into place: link() fails if the
    # name exists, so concurrent first starts agree on one key and nobody ever reads a half-written file.
    fd, tmp = tempfile.mkstemp(prefix=".master.key.", dir=path.parent)  # O_EXCL, mode 0600
    try:
        try:
            os.write(fd, os.urandom(KEY_LEN))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process won the race; its key is the one to use
        _fsync_dir(path.parent)
    finally:
        os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems do not support fsync on directories
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def select_provider(
    source: str,
    *,
    production: bool,
    data_dir: Path | str,
    master_key_hex: str | None = None,
    snp: SnpKeyConfig | None = None,
    snp_device: Path | str = "/dev/sev-guest",
) -> MasterKeyProvider:
    """Map configuration (ZKA_MASTER_KEY_SOURCE auto|file|snp-derived) to a provider.

    Production accepts only the hardware-derived key; development uses ZKA_MASTER_KEY if given,
    otherwise the key file.
    """
    if source == "auto":
        source = "snp-derived" if production else "file"
    if source == "snp-derived":
        if snp is None:
            raise MasterKeyError("snp-derived master key needs its configuration (ZKA_SNP_TCB_VERSION)")
        return SnpDerivedKeyProvider(snp, device_path=snp_device)
    if source != "file":
        raise MasterKeyError(f"unknown master key source {source!r}; use auto, file or snp-derived")
    if production:
        raise MasterKeyError(
            "production requires the snp-derived master key; file/env keys are development only"
        )
    if master_key_hex:
        return HexMasterKeyProvider(master_key_hex)
    return FileMasterKeyProvider(data_dir)
