# The two README commands: `make dev` starts the service, `make test` runs the whole suite.
# Both install everything they need into .venv from the pinned lock file first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev demo test lint bench install lock grpc-stubs

$(BIN)/zka: requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip sync -q --compile-bytecode -p $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --compile-bytecode -p $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q app
	touch $(BIN)/zka

install: $(BIN)/zka

# compileall: the environment may forbid writing bytecode (PYTHONDONTWRITEBYTECODE), and an edited module
# without fresh bytecode is compiled again at every start.
dev: install
	$(BIN)/python -m compileall -q app
	$(BIN)/zka serve

# The whole product with no exchange account: starts the service (left running), verifies it, connects the
# built-in demo venue, backfills two years, signs and verifies a report, prints its URL.
demo: install
	$(BIN)/python -m compileall -q app
	$(BIN)/zka demo

test: install
	$(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check app tests
	$(BIN)/mypy app

bench: install
	$(BIN)/python -m compileall -q app
	$(BIN)/zka bench

# Re-pin after editing pyproject.toml: the development lock (tests, lint) and the runtime lock (Dockerfile).
lock: $(BIN)/zka
	$(BIN)/uv pip compile -q -p 3.11 pyproject.toml --extra dev -o requirements.lock
	$(BIN)/uv pip compile -q -p 3.11 pyproject.toml -o requirements-runtime.lock

# The gRPC EnclaveService stubs (app/grpc/generated/, checked in) from the original's proto, with grpcio-tools.
# protoc writes `import enclave_pb2`; the package needs the relative form.
grpc-stubs: install
	$(BIN)/python -m grpc_tools.protoc -I app/grpc/proto --python_out=app/grpc/generated \
		--pyi_out=app/grpc/generated --grpc_python_out=app/grpc/generated app/grpc/proto/enclave.proto
	sed -i 's/^import enclave_pb2 as/from . import enclave_pb2 as/' app/grpc/generated/enclave_pb2_grpc.py
