"""SNP_GET_DERIVED_KEY on /dev/sev-guest: the production master key (SPEC §5).

The AMD secure processor derives the key from the chip-unique VCEK root mixed with this guest's
launch measurement, policy, guest SVN and a pinned TCB version. Nothing public suffices to compute it.
Layouts follow include/uapi/linux/sev-guest.h (x86-64); see reference/sev-snp-attestation.md §1.1.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import fcntl
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.crypto.errors import MasterKeyError

SNP_GET_DERIVED_KEY = 0xC0205301  # _IOWR('S', 1, struct snp_guest_request_ioctl), 32 bytes
MSG_VERSION = 1
ROOT_KEY_VCEK = 0
ROOT_KEY_VMRK = 1

# GUEST_FIELD_SELECT bits (SEV-SNP firmware ABI, MSG_KEY_REQ).
FIELD_POLICY = 1 << 0
FIELD_IMAGE_ID = 1 << 1
FIELD_FAMILY_ID = 1 << 2
FIELD_MEASUREMENT = 1 << 3
FIELD_GUEST_SVN = 1 << 4
FIELD_TCB_VERSION = 1 << 5
# Measurement + policy + guest SVN bind the key to this build; mixing the *pinned* TCB version (not
# the current one) keeps the key stable across firmware updates while refusing firmware rolled back
# below the pin (the PSP rejects a TCB above the committed TCB).
DEFAULT_FIELD_SELECT = FIELD_POLICY | FIELD_MEASUREMENT | FIELD_GUEST_SVN | FIELD_TCB_VERSION

_WRAPPER = struct.Struct("<B7xQQQ")  # msg_version, req_data ptr, resp_data ptr, exitinfo2
_REQUEST = struct.Struct("<IIQIIQ")  # root_key_select, rsvd, guest_field_select, vmpl, guest_svn, tcb_version
RESPONSE_LEN = 64  # MSG_KEY_RSP: u32 status, 28 reserved bytes, 32-byte key at 0x20
KEY_OFFSET = 0x20
KEY_LEN = 32

# The driver serializes requests anyway, but a failed guest request disables the VMPCK until reboot:
# never have two in flight from this process (attestation code may share this lock).
SEV_GUEST_LOCK = threading.Lock()

FW_STATUS = {
    0x00: "none",
    0xFF: "not set",
    0x07: "POLICY_FAILURE",
    0x10: "INVALID_GUEST",
    0x11: "INVALID_COMMAND",
    0x15: "UNSUPPORTED",
    0x16: "INVALID_PARAM",
    0x17: "RESOURCE_LIMIT",
    0x27: "INVALID_KEY",
}
VMM_ERRORS = {1: "INVALID_LEN", 2: "BUSY"}

IoctlFn = Callable[[int, int, bytearray], object]
OpenFn = Callable[[str], int]


@dataclass(frozen=True)
class SnpKeyConfig:
    tcb_version: int  # pinned by configuration (ZKA_SNP_TCB_VERSION), e.g. the REPORTED_TCB at install
    guest_svn: int = 0
    vmpl: int = 0
    root_key_select: int = ROOT_KEY_VCEK
    guest_field_select: int = DEFAULT_FIELD_SELECT

    def __post_init__(self) -> None:
        if not 0 <= self.tcb_version < 2**64:
            raise MasterKeyError("SNP TCB version must be an unsigned 64-bit value")
        if not 0 <= self.guest_svn < 2**32 or not 0 <= self.vmpl <= 3:
            raise MasterKeyError("SNP guest_svn must be a u32 and vmpl 0..3")
        if self.root_key_select not in (ROOT_KEY_VCEK, ROOT_KEY_VMRK):
            raise MasterKeyError("SNP root key must be VCEK (0) or VMRK (1)")
        if self.guest_field_select & FIELD_MEASUREMENT == 0:
            # Without the measurement any code on this chip could derive the same key.
            raise MasterKeyError("SNP guest_field_select must include the measurement")

    def pack_request(self) -> bytes:
        return _REQUEST.pack(
            self.root_key_select, 0, self.guest_field_select, self.vmpl, self.guest_svn, self.tcb_version
        )


def _default_open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CLOEXEC)


class SnpDerivedKeyProvider:
    source = "snp-derived"

    def __init__(
        self,
        config: SnpKeyConfig,
        *,
        device_path: Path | str = "/dev/sev-guest",
        ioctl: IoctlFn = fcntl.ioctl,
        opener: OpenFn = _default_open,
        closer: Callable[[int], None] = os.close,
    ) -> None:
        self.config = config
        self.device_path = str(device_path)
        self._ioctl = ioctl
        self._open = opener
        self._close = closer

    async def load(self) -> bytes:
        return await asyncio.to_thread(self.derive)

    def derive(self) -> bytes:
        with SEV_GUEST_LOCK:
            fd = self._open_device()
            try:
                response = self._request(fd)
            finally:
                self._close(fd)
        return _key_from_response(response)

    def _open_device(self) -> int:
        try:
            return self._open(self.device_path)
        except OSError as exc:
            raise MasterKeyError(_open_error(self.device_path, exc)) from None

    def _request(self, fd: int) -> bytes:
        request = ctypes.create_string_buffer(self.config.pack_request(), _REQUEST.size)
        response = ctypes.create_string_buffer(RESPONSE_LEN)
        wrapper = bytearray(
            _WRAPPER.pack(MSG_VERSION, ctypes.addressof(request), ctypes.addressof(response), 0)
        )
        try:
            self._ioctl(fd, SNP_GET_DERIVED_KEY, wrapper)
        except OSError as exc:
            exitinfo2 = _WRAPPER.unpack(bytes(wrapper))[3]
            raise MasterKeyError(_ioctl_error(exc, exitinfo2)) from None
        finally:
            ctypes.memset(request, 0, _REQUEST.size)
        raw = response.raw
        ctypes.memset(response, 0, RESPONSE_LEN)  # best effort: do not leave the key in this buffer
        return raw


def _key_from_response(raw: bytes) -> bytes:
    status = struct.unpack_from("<I", raw, 0)[0]
    if status != 0:
        raise MasterKeyError(f"SNP_GET_DERIVED_KEY: firmware status {_fw_name(status)}; {_fw_hint(status)}")
    key = raw[KEY_OFFSET : KEY_OFFSET + KEY_LEN]
    if key == bytes(KEY_LEN):
        raise MasterKeyError("SNP_GET_DERIVED_KEY returned an all-zero key; refusing to use it")
    return key


def _fw_name(status: int) -> str:
    return f"0x{status:02x} ({FW_STATUS.get(status, 'unknown')})"


def _fw_hint(status: int) -> str:
    if status == 0x16:
        return (
            "invalid parameters: vmpl below the guest's VMPL, guest_svn above the launch SVN, "
            "or ZKA_SNP_TCB_VERSION above the committed TCB"
        )
    return "the secure processor refused the key request"


def _open_error(path: str, exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return f"{path} not found: not an SEV-SNP guest, or the sev-guest driver is not loaded"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied opening {path}; the service user needs read/write access to it"
    return f"cannot open {path}: {errno.errorcode.get(exc.errno or 0, exc.errno)}"


def _ioctl_error(exc: OSError, exitinfo2: int) -> str:
    fw_error, vmm_error = exitinfo2 & 0xFFFFFFFF, exitinfo2 >> 32
    code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    detail = f"errno {code}, fw_error {_fw_name(fw_error)}, vmm_error {vmm_error}"
    if vmm_error in VMM_ERRORS:
        detail += f" ({VMM_ERRORS[vmm_error]})"
    if exc.errno == errno.ENOTTY:
        hint = (
            "the guest's VMPCK is disabled after an earlier failed request (reboot needed), "
            "or the kernel lacks SNP_GET_DERIVED_KEY"
        )
    elif exc.errno in (errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT):
        hint = "the host throttled the request; the VMPCK may now be disabled until reboot"
    elif exc.errno == errno.EINVAL:
        hint = "the kernel rejected the request; check vmpl, guest_svn and ZKA_SNP_TCB_VERSION"
    elif exc.errno == errno.EIO:
        hint = _fw_hint(fw_error) if fw_error not in (0, 0xFF) else "firmware or host error"
    else:
        hint = "key derivation failed"
    return f"SNP_GET_DERIVED_KEY failed: {hint} ({detail})"
