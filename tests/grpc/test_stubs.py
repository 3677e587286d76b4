"""The checked-in stubs are what `make grpc-stubs` makes from the checked-in proto, and that proto is the
original's, unchanged (the tests' client is generated from the fixture copy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.paths import FIXTURES, REPO_ROOT

GENERATED = REPO_ROOT / "app" / "grpc" / "generated"


def test_the_proto_is_the_originals() -> None:
    ours = (REPO_ROOT / "app/grpc/proto/enclave.proto").read_bytes()
    assert ours == (FIXTURES / "ts-original/enclave.proto").read_bytes()


def test_make_grpc_stubs_reproduces_the_checked_in_stubs(tmp_path: Path) -> None:
    text = (REPO_ROOT / "Makefile").read_text()
    recipe = text.split("grpc-stubs: install\n", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    script = recipe.replace("$(BIN)/python", sys.executable).replace("app/grpc/generated", str(tmp_path))
    for command in script.splitlines():
        subprocess.run(command.strip(), shell=True, check=True, cwd=REPO_ROOT, capture_output=True, timeout=60)
    for name in ("enclave_pb2.py", "enclave_pb2.pyi", "enclave_pb2_grpc.py"):
        assert (tmp_path / name).read_text() == (GENERATED / name).read_text(), name
