"""SNP_GET_DERIVED_KEY against a fake /dev/sev-guest that checks the exact bytes the kernel would see."""

from __future__ import annotations

import ctypes
import errno
import struct

import pytest

from app.services.crypto import MasterKeyError, SnpDerivedKeyProvider, SnpKeyConfig
from app.services.crypto.snp_derived_key import (
    DEFAULT_FIELD_SELECT,
    FIELD_GUEST_SVN,
    FIELD_MEASUREMENT,
    FIELD_POLICY,
    FIELD_TCB_VERSION,
)

KEY = bytes(range(0x40, 0x60))
TCB = 0xDB18_0000_0000_0004  # microcode 0xDB, SNP 0x18, TEE 0, bootloader 4 (Milan/Genoa layout)


def firmware_response(status: int = 0, key: bytes = KEY) -> bytes:
    return struct.pack("<I", status) + bytes(28) + key


class FakeSevGuest:
    """Plays the kernel: reads the request through the pointers, writes the response back."""

    def __init__(self, response: bytes = firmware_response(), error: int | None = None, exitinfo2: int = 0):
        self.response = response
        self.error = error
        self.exitinfo2 = exitinfo2
        self.requests: list[bytes] = []
        self.msg_versions: list[int] = []
        self.opened: list[str] = []
        self.closed: list[int] = []

    def open(self, path: str) -> int:
        self.opened.append(path)
        return 99

    def close(self, fd: int) -> None:
        self.closed.append(fd)

    def ioctl(self, fd: int, request: int, buf: bytearray) -> int:
        assert fd == 99 and request == 0xC0205301
        assert len(buf) == 32
        msg_version, req_ptr, resp_ptr, exitinfo2 = struct.unpack("<B7xQQQ", bytes(buf))
        assert bytes(buf[1:8]) == bytes(7)  # padding after msg_version
        self.msg_versions.append(msg_version)
        self.requests.append(ctypes.string_at(req_ptr, 32))
        if self.error is not None:
            struct.pack_into("<Q", buf, 24, self.exitinfo2)
            raise OSError(self.error, "fake")
        ctypes.memmove(resp_ptr, self.response, 64)
        struct.pack_into("<Q", buf, 24, 0)
        return 0


def provider(fake: FakeSevGuest, config: SnpKeyConfig | None = None) -> SnpDerivedKeyProvider:
    return SnpDerivedKeyProvider(
        config or SnpKeyConfig(tcb_version=TCB), device_path="/dev/sev-guest",
        ioctl=fake.ioctl, opener=fake.open, closer=fake.close,
    )


def test_default_fields_bind_measurement_policy_svn_and_pinned_tcb() -> None:
    assert DEFAULT_FIELD_SELECT == FIELD_POLICY | FIELD_MEASUREMENT | FIELD_GUEST_SVN | FIELD_TCB_VERSION == 0x39


async def test_request_bytes_and_key() -> None:
    fake = FakeSevGuest()
    p = provider(fake)
    assert p.source == "snp-derived"
    assert await p.load() == KEY
    assert fake.msg_versions == [1]
    expected = bytes.fromhex(
        "00000000"  # root_key_select = VCEK
        "00000000"  # reserved
        "3900000000000000"  # guest_field_select: policy | measurement | guest SVN | TCB version
        "00000000"  # vmpl 0
        "00000000"  # guest_svn 0
        "04000000000018db"  # tcb_version, little-endian
    )
    assert fake.requests == [expected]
    assert fake.opened == ["/dev/sev-guest"] and fake.closed == [99]


def test_request_bytes_with_other_config() -> None:
    fake = FakeSevGuest()
    config = SnpKeyConfig(tcb_version=0x0102030405060708, guest_svn=7, vmpl=1)
    assert provider(fake, config).derive() == KEY
    assert fake.requests[0] == (
        struct.pack("<II", 0, 0) + bytes.fromhex("3900000000000000") + struct.pack("<II", 1, 7)
        + bytes.fromhex("0807060504030201")
    )


def test_firmware_status_mapped() -> None:
    with pytest.raises(MasterKeyError, match=r"0x16 \(INVALID_PARAM\).*committed TCB"):
        provider(FakeSevGuest(firmware_response(status=0x16))).derive()
    with pytest.raises(MasterKeyError, match="0x27"):
        provider(FakeSevGuest(firmware_response(status=0x27))).derive()


def test_all_zero_key_refused() -> None:
    with pytest.raises(MasterKeyError, match="all-zero"):
        provider(FakeSevGuest(firmware_response(key=bytes(32)))).derive()


@pytest.mark.parametrize(
    ("err", "exitinfo2", "pattern"),
    [
        (errno.EIO, 0x16, r"invalid parameters.*fw_error 0x16 \(INVALID_PARAM\)"),
        (errno.ENOTTY, 0, "VMPCK is disabled"),
        (errno.EAGAIN, 2 << 32, r"throttled.*vmm_error 2 \(BUSY\)"),
        (errno.EINVAL, 0, "kernel rejected"),
        (errno.EIO, 0xFF, "firmware or host error"),
        (errno.EFAULT, 0, "key derivation failed"),
    ],
)
def test_kernel_errors_mapped(err: int, exitinfo2: int, pattern: str) -> None:
    fake = FakeSevGuest(error=err, exitinfo2=exitinfo2)
    with pytest.raises(MasterKeyError, match=pattern) as info:
        provider(fake).derive()
    assert info.value.__suppress_context__
    assert fake.closed == [99]  # the device is closed on failure too


@pytest.mark.parametrize(("err", "pattern"), [(errno.ENOENT, "not an SEV-SNP guest"), (errno.EACCES, "permission")])
def test_open_errors_mapped(err: int, pattern: str) -> None:
    def opener(path: str) -> int:
        raise OSError(err, "fake")

    p = SnpDerivedKeyProvider(SnpKeyConfig(tcb_version=TCB), ioctl=FakeSevGuest().ioctl, opener=opener)
    with pytest.raises(MasterKeyError, match=pattern):
        p.derive()


def test_missing_device_on_this_machine() -> None:
    with pytest.raises(MasterKeyError):
        SnpDerivedKeyProvider(SnpKeyConfig(tcb_version=TCB), device_path="/nonexistent/sev-guest").derive()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tcb_version": -1}, {"tcb_version": 2**64}, {"tcb_version": 1, "vmpl": 4},
        {"tcb_version": 1, "guest_svn": 2**32}, {"tcb_version": 1, "root_key_select": 2},
        {"tcb_version": 1, "guest_field_select": FIELD_POLICY | FIELD_GUEST_SVN},
    ],
)
def test_config_validation(kwargs: dict[str, int]) -> None:
    with pytest.raises(MasterKeyError):
        SnpKeyConfig(**kwargs)
