from __future__ import annotations

import ctypes
import errno
import os
import shutil
import struct
import sys
from pathlib import Path

import pytest

from app.attestation.certtable import build_cert_table
from app.attestation.providers import (
    AttestationError,
    AttestationFatal,
    AttestationUnavailable,
    ConfigfsTsmProvider,
    EvidenceProvider,
    HardwareGate,
    SevGuestProvider,
    SimulatedProvider,
    SnpguestProvider,
    select_provider,
)
from app.attestation.providers.configfs import ConfigfsOps
from app.attestation.providers.sevguest import (
    SNP_GET_EXT_REPORT,
    SNP_GET_REPORT,
    ExtReportReq,
    GuestRequest,
    ReportReq,
)
from app.attestation.report import parse_report
from tests.attestation._data import SEVSNP

TEMPLATE = (SEVSNP / "trustee/test-report.bin").read_bytes()
VCEK = (SEVSNP / "trustee/test-vcek.der").read_bytes()
RD = bytes(range(64))


def fake_report(report_data: bytes) -> bytes:
    return TEMPLATE[:0x50] + report_data + TEMPLATE[0x90:]


def fast_gate() -> HardwareGate:
    return HardwareGate(min_interval=0)


# ---------------------------------------------------------------- configfs-tsm


class FakeKernel(ConfigfsOps):
    """Plays the sev_guest configfs-tsm provider on a plain directory, with real file I/O."""

    def __init__(self, aux: bytes = b"", *, bump_on_read: bool = False, read_errno: int | None = None) -> None:
        self.aux, self.bump_on_read, self.read_errno = aux, bump_on_read, read_errno
        self.inblob: bytes | None = None
        self.created: list[Path] = []
        self.removed: list[Path] = []

    def mkdir(self, path: Path) -> None:
        super().mkdir(path)
        self.created.append(path)
        for name, content in {"provider": b"sev_guest\n", "generation": b"0\n", "inblob": b"",
                              "outblob": b"", "auxblob": b""}.items():
            (path / name).write_bytes(content)

    def rmdir(self, path: Path) -> None:
        shutil.rmtree(path)
        self.removed.append(path)

    def write(self, path: Path, data: bytes) -> None:
        if path.name == "inblob" and len(data) != 64:
            raise OSError(errno.EINVAL, "Invalid argument")
        super().write(path, data)
        if path.name == "inblob":
            self.inblob = data
            self._bump(path.parent)
            (path.parent / "outblob").write_bytes(fake_report(data))
            (path.parent / "auxblob").write_bytes(self.aux)

    def read(self, path: Path) -> bytes:
        if path.name == "outblob":
            if self.read_errno:
                raise OSError(self.read_errno, "boom")
            if self.bump_on_read:
                self._bump(path.parent)
        return super().read(path)

    def _bump(self, entry: Path) -> None:
        gen = int((entry / "generation").read_text()) + 1
        (entry / "generation").write_text(f"{gen}\n")


async def test_configfs_fresh_dir_and_certs(tmp_path: Path) -> None:
    kernel = FakeKernel(build_cert_table({"VCEK": VCEK, "ASK": b"ask"}))
    provider = ConfigfsTsmProvider(tmp_path, gate=fast_gate(), ops=kernel)
    assert isinstance(provider, EvidenceProvider) and provider.available()
    ev = await provider.get_evidence(RD)
    assert kernel.inblob == RD and parse_report(ev.report).report_data == RD
    assert ev.leaf_der == VCEK and ev.certs["ASK"] == b"ask" and ev.platform == "sev-snp"
    await provider.get_evidence(RD)
    assert len(set(kernel.created)) == 2 and kernel.removed == kernel.created
    assert os.listdir(tmp_path) == []


async def test_configfs_empty_auxblob(tmp_path: Path) -> None:
    ev = await ConfigfsTsmProvider(tmp_path, gate=fast_gate(), ops=FakeKernel()).get_evidence(RD)
    assert ev.certs == {} and ev.leaf_der is None


async def test_configfs_rejects_wrong_length_before_kernel(tmp_path: Path) -> None:
    kernel = FakeKernel()
    with pytest.raises(ValueError, match="exactly 64"):
        await ConfigfsTsmProvider(tmp_path, gate=fast_gate(), ops=kernel).get_evidence(b"short")
    assert kernel.created == []


async def test_configfs_detects_concurrent_writer(tmp_path: Path) -> None:
    provider = ConfigfsTsmProvider(tmp_path, gate=fast_gate(), ops=FakeKernel(bump_on_read=True))
    with pytest.raises(AttestationError, match="concurrently"):
        await provider.get_evidence(RD)
    assert os.listdir(tmp_path) == []


async def test_configfs_enotty_is_fatal_and_sticky(tmp_path: Path) -> None:
    gate = fast_gate()
    kernel = FakeKernel(read_errno=errno.ENOTTY)
    provider = ConfigfsTsmProvider(tmp_path, gate=gate, ops=kernel)
    with pytest.raises(AttestationFatal, match="until reboot"):
        await provider.get_evidence(RD)
    with pytest.raises(AttestationFatal):
        await provider.get_evidence(RD)
    assert len(kernel.created) == 1  # the second call never touched the device


async def test_configfs_wrong_provider(tmp_path: Path) -> None:
    class Tdx(FakeKernel):
        def mkdir(self, path: Path) -> None:
            super().mkdir(path)
            (path / "provider").write_bytes(b"tdx_guest\n")

    with pytest.raises(AttestationError, match="tdx_guest"):
        await ConfigfsTsmProvider(tmp_path, gate=fast_gate(), ops=Tdx()).get_evidence(RD)


# ---------------------------------------------------------------- /dev/sev-guest


class FakeDevice:
    """Stands in for the sev-guest driver: decodes the request structs from memory like the kernel."""

    def __init__(self, table: bytes = b"", *, ext_errno: int | None = None, plain_errno: int | None = None,
                 status: int = 0) -> None:
        self.table, self.ext_errno, self.plain_errno, self.status = table, ext_errno, plain_errno, status
        self.calls: list[tuple[int, int]] = []  # (request, certs_len)

    def __call__(self, fd: int, request: int, buf: bytearray) -> int:
        assert len(buf) == 32
        w = GuestRequest.from_buffer_copy(bytes(buf))
        assert w.msg_version == 1 and w.req_data and w.resp_data
        if request == SNP_GET_EXT_REPORT:
            req = ExtReportReq.from_buffer_copy(ctypes.string_at(w.req_data, ctypes.sizeof(ExtReportReq)))
            self.calls.append((request, req.certs_len))
            assert req.certs_len % 4096 == 0 and req.certs_address
            if self.ext_errno:
                raise OSError(self.ext_errno, "ext failed")
            if len(self.table) > req.certs_len:
                needed = struct.pack("<I", len(self.table))
                ctypes.memmove(w.req_data + ExtReportReq.certs_len.offset, needed, 4)
                w.vmm_error = 1
                buf[:] = bytes(w)
                raise OSError(errno.EIO, "Input/output error")
            ctypes.memmove(req.certs_address, self.table, len(self.table))
            data = req.data
        elif request == SNP_GET_REPORT:
            data = ReportReq.from_buffer_copy(ctypes.string_at(w.req_data, ctypes.sizeof(ReportReq)))
            self.calls.append((request, 0))
            if self.plain_errno:
                raise OSError(self.plain_errno, "plain failed")
        else:
            raise OSError(errno.ENOTTY, "unknown ioctl")
        assert data.vmpl == 0 and bytes(data.rsvd) == bytes(28)
        resp = struct.pack("<II", self.status, 1184) + bytes(24) + fake_report(bytes(data.user_data))
        ctypes.memmove(w.resp_data, resp, len(resp))
        return 0


def _device(tmp_path: Path) -> Path:
    dev = tmp_path / "sev-guest"
    dev.write_bytes(b"")
    return dev


async def test_ioctl_ext_report_with_certs(tmp_path: Path) -> None:
    fake = FakeDevice(build_cert_table({"VCEK": VCEK}, byte_order="mixed"))
    ev = await SevGuestProvider(_device(tmp_path), gate=fast_gate(), ioctl=fake).get_evidence(RD)
    assert parse_report(ev.report).report_data == RD and ev.leaf_der == VCEK
    assert fake.calls == [(SNP_GET_EXT_REPORT, 0x4000)]


async def test_ioctl_resizes_cert_buffer_on_eio(tmp_path: Path) -> None:
    big = build_cert_table({"VCEK": VCEK, "ASK": bytes(20000)})
    fake = FakeDevice(big)
    ev = await SevGuestProvider(_device(tmp_path), gate=fast_gate(), ioctl=fake).get_evidence(RD)
    assert ev.leaf_der == VCEK
    assert fake.calls[0] == (SNP_GET_EXT_REPORT, 0x4000)
    assert fake.calls[1][1] >= len(big) and fake.calls[1][1] % 4096 == 0


async def test_ioctl_falls_back_to_plain_report(tmp_path: Path) -> None:
    fake = FakeDevice(ext_errno=errno.EINVAL)
    ev = await SevGuestProvider(_device(tmp_path), gate=fast_gate(), ioctl=fake).get_evidence(RD)
    assert [c[0] for c in fake.calls] == [SNP_GET_EXT_REPORT, SNP_GET_REPORT] and ev.certs == {}


async def test_ioctl_enotty_is_fatal(tmp_path: Path) -> None:
    gate = fast_gate()
    fake = FakeDevice(ext_errno=errno.ENOTTY)
    provider = SevGuestProvider(_device(tmp_path), gate=gate, ioctl=fake)
    with pytest.raises(AttestationFatal, match="attestation disabled until reboot"):
        await provider.get_evidence(RD)
    with pytest.raises(AttestationFatal):
        await provider.get_evidence(RD)
    assert len(fake.calls) == 1


async def test_ioctl_other_error_and_firmware_status(tmp_path: Path) -> None:
    with pytest.raises(AttestationError, match="ioctl failed"):
        await SevGuestProvider(_device(tmp_path), gate=fast_gate(),
                               ioctl=FakeDevice(ext_errno=errno.ETIMEDOUT)).get_evidence(RD)
    with pytest.raises(AttestationError, match="status 0x16"):
        await SevGuestProvider(_device(tmp_path), gate=fast_gate(),
                               ioctl=FakeDevice(status=0x16)).get_evidence(RD)


# ---------------------------------------------------------------- snpguest


def _fake_snpguest(tmp_path: Path, *, certs: bool = True) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "template.bin").write_bytes(TEMPLATE)
    (src / "vcek.der").write_bytes(VCEK)
    script = tmp_path / "snpguest"
    script.write_text(f"""#!{sys.executable}
import sys, shutil, pathlib
args = sys.argv[1:]
src = pathlib.Path({str(src)!r})
(src / "calls.log").open("a").write(" ".join(args[:1] + args[3:]) + "\\n")
if args[0] == "report":
    report, request = pathlib.Path(args[1]), pathlib.Path(args[2])
    assert args[3:] == ["--vmpl", "0"], args
    rd = request.read_bytes()
    assert len(rd) == 64
    t = (src / "template.bin").read_bytes()
    report.write_bytes(t[:0x50] + rd + t[0x90:])
elif args[0] == "certificates":
    if not {certs!r}:
        sys.exit("no certificates from host")
    assert args[1] == "der"
    shutil.copy(src / "vcek.der", pathlib.Path(args[2]) / "vcek.der")
else:
    sys.exit(2)
""")
    script.chmod(0o755)
    return script


async def test_snpguest_cli(tmp_path: Path) -> None:
    provider = SnpguestProvider(_fake_snpguest(tmp_path), gate=fast_gate())
    assert provider.available()
    ev = await provider.get_evidence(RD)
    assert parse_report(ev.report).report_data == RD and ev.leaf_der == VCEK and ev.provider == "snpguest"


async def test_snpguest_without_host_certs(tmp_path: Path) -> None:
    ev = await SnpguestProvider(_fake_snpguest(tmp_path, certs=False), gate=fast_gate()).get_evidence(RD)
    assert ev.certs == {}


async def test_snpguest_failure_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "snpguest"
    bad.write_text(f"#!{sys.executable}\nimport sys\nsys.exit('device busy')\n")
    bad.chmod(0o755)
    with pytest.raises(AttestationError, match="device busy"):
        await SnpguestProvider(bad, gate=fast_gate()).get_evidence(RD)


# ---------------------------------------------------------------- gate and selection


async def test_gate_spaces_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    gate = HardwareGate(min_interval=2.0, clock=lambda: now[0], sleep=sleep)
    async with gate.slot():
        now[0] += 0.5
    async with gate.slot():
        pass
    assert slept == [2.0]
    now[0] += 5
    async with gate.slot():
        pass
    assert slept == [2.0]


def test_select_provider_order(tmp_path: Path) -> None:
    root, dev = tmp_path / "tsm", tmp_path / "sev-guest"
    none = tmp_path / "missing"
    kw = {"data_dir": tmp_path, "snpguest_binary": none}
    assert isinstance(select_provider(production=False, configfs_root=none, sev_guest_device=none, **kw),
                      SimulatedProvider)
    with pytest.raises(AttestationUnavailable):
        select_provider(production=True, configfs_root=none, sev_guest_device=none, **kw)
    with pytest.raises(AttestationUnavailable):
        select_provider(production=False, allow_simulated=False, configfs_root=none, sev_guest_device=none, **kw)
    with pytest.raises(AttestationUnavailable, match="production"):
        select_provider(production=True, preferred="simulated", configfs_root=none, sev_guest_device=none, **kw)
    dev.write_bytes(b"")
    assert isinstance(select_provider(production=True, configfs_root=none, sev_guest_device=dev, **kw),
                      SevGuestProvider)
    root.mkdir()
    assert isinstance(select_provider(production=True, configfs_root=root, sev_guest_device=dev, **kw),
                      ConfigfsTsmProvider)
    assert isinstance(select_provider(production=True, preferred="sev-guest-ioctl", configfs_root=root,
                                      sev_guest_device=dev, **kw), SevGuestProvider)
