"""Master key: id, the development key file (permissions, atomic creation), hex keys, selection."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from app.errors import StartupRefused
from app.services.crypto import (
    FileMasterKeyProvider,
    HexMasterKeyProvider,
    MasterKeyError,
    SnpDerivedKeyProvider,
    SnpKeyConfig,
    master_key_id,
    select_provider,
)
from app.services.crypto.master_key import load_or_create_key_file


def test_master_key_id_matches_original_definition() -> None:
    # ts-original.md §39: this master key has masterKeyId 120717e5e638bcb6.
    key = bytes.fromhex("c7be1ceb8a08cd9dde8872c2fdc6024ef862b77986892d6c2a02e8eb1cc075bc")
    assert master_key_id(key) == "120717e5e638bcb6"


async def test_file_key_created_0600_and_stable(tmp_path: Path) -> None:
    provider = FileMasterKeyProvider(tmp_path / "data")
    assert provider.source == "file"
    key = await provider.load()
    path = tmp_path / "data" / "master.key"
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await FileMasterKeyProvider(tmp_path / "data").load() == key
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp files left


async def test_file_key_refused_with_loose_permissions(tmp_path: Path) -> None:
    provider = FileMasterKeyProvider(tmp_path)
    await provider.load()
    os.chmod(provider.path, 0o644)
    with pytest.raises(MasterKeyError, match="0644.*0600") as info:
        await provider.load()
    assert isinstance(info.value, StartupRefused)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
async def test_file_key_refused_with_wrong_length(tmp_path: Path, size: int) -> None:
    path = tmp_path / "master.key"
    path.write_bytes(b"\x01" * size)
    os.chmod(path, 0o600)
    with pytest.raises(MasterKeyError, match="exactly 32 bytes"):
        await FileMasterKeyProvider(tmp_path).load()
    assert path.read_bytes() == b"\x01" * size  # never overwritten


async def test_file_key_refuses_symlink_and_directory(tmp_path: Path) -> None:
    real = tmp_path / "real.key"
    real.write_bytes(os.urandom(32))
    os.chmod(real, 0o600)
    (tmp_path / "master.key").symlink_to(real)
    with pytest.raises(MasterKeyError, match="symbolic link"):
        await FileMasterKeyProvider(tmp_path).load()
    other = tmp_path / "other"
    (other / "master.key").mkdir(parents=True)
    with pytest.raises(MasterKeyError):
        await FileMasterKeyProvider(other).load()


def test_concurrent_first_start_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(load_or_create_key_file(path))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


async def test_hex_key() -> None:
    key = os.urandom(32)
    provider = HexMasterKeyProvider(key.hex())
    assert provider.source == "env" and await provider.load() == key
    assert await HexMasterKeyProvider(key.hex().upper()).load() == key


@pytest.mark.parametrize("bad", ["", "ab" * 31, "ab" * 33, "zz" * 32, "0x" + "ab" * 31])
async def test_hex_key_rejected_without_echo(bad: str) -> None:
    with pytest.raises(MasterKeyError, match="64 hex characters") as info:
        await HexMasterKeyProvider(bad).load()
    if bad:
        assert bad not in str(info.value)


def test_select_provider(tmp_path: Path) -> None:
    snp = SnpKeyConfig(tcb_version=0x1)
    assert isinstance(select_provider("auto", production=False, data_dir=tmp_path), FileMasterKeyProvider)
    hex_provider = select_provider("file", production=False, data_dir=tmp_path, master_key_hex="ab" * 32)
    assert isinstance(hex_provider, HexMasterKeyProvider)
    assert isinstance(select_provider("auto", production=True, data_dir=tmp_path, snp=snp), SnpDerivedKeyProvider)
    assert isinstance(select_provider("snp-derived", production=False, data_dir=tmp_path, snp=snp),
                      SnpDerivedKeyProvider)
    with pytest.raises(MasterKeyError, match="production"):
        select_provider("file", production=True, data_dir=tmp_path)
    with pytest.raises(MasterKeyError, match="production"):
        select_provider("file", production=True, data_dir=tmp_path, master_key_hex="ab" * 32)
    with pytest.raises(MasterKeyError, match="TCB"):
        select_provider("auto", production=True, data_dir=tmp_path)
    with pytest.raises(MasterKeyError, match="unknown"):
        select_provider("kms", production=False, data_dir=tmp_path)
