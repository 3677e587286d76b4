# syntax=docker/dockerfile:1
# Build stage: compilers and uv live here only.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements-runtime.lock pyproject.toml README.md ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install uv \
 && /opt/venv/bin/uv pip sync -p /opt/venv/bin/python requirements-runtime.lock
COPY app ./app
COPY migrations ./migrations
RUN /opt/venv/bin/uv pip install -p /opt/venv/bin/python --no-deps . \
 && /opt/venv/bin/pip uninstall -y uv pip

# Runtime stage: no build tools, non-root.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/zka --create-home zka
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH ZKA_ENV=production ZKA_HOST=0.0.0.0 ZKA_PORT=8443 ZKA_DATA_DIR=/var/lib/zka \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER zka
WORKDIR /var/lib/zka
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["zka", "health"]
ENTRYPOINT ["zka"]
CMD ["serve"]
