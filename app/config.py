"""Settings, grouped by concern. Read once by load_settings(); every variable is in .env.example.

Sources, highest priority first: explicit init values, environment, `.env`, GCE instance metadata
attributes (only when ZKA_CONFIG_SOURCE=gce-metadata), defaults.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from app.errors import StartupRefused

# ZKA_LOG_API_KEY guards the log stream: shorter keys are guessable (refused in production, a stated weakness
# in development).
LOG_API_KEY_MIN_CHARS = 32
DATABASE_URL_RULE = "must be postgresql://user:password@host:port/database or sqlite:///path"
MAX_RETRIES_PER_DAY = 12
RATE_LIMIT_RULE = 'must be a count per period, e.g. "5/15minutes", "10/minute" or "100/hour"'


class ConfigurationError(StartupRefused):
    """A variable breaks its rule. The message names the variable and the rule, never the value: values
    include secrets (ZKA_JWT_SECRET, ZKA_MASTER_KEY, passwords in DATABASE_URL)."""

# Metadata attributes fetched once by load_settings(); read by the lowest-priority source below.
_metadata_values: ContextVar[dict[str, str] | None] = ContextVar("zka_metadata_values", default=None)


class _MetadataSource(PydanticBaseSettingsSource):
    """GCE instance attributes named like the environment variables (ZKA_LOG_API_KEY or zka-log-api-key)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        values = _metadata_values.get() or {}
        prefix = self.settings_cls.model_config.get("env_prefix", "")
        names = [f"{prefix}{field_name}".upper()]
        if isinstance(field.validation_alias, AliasChoices):
            names += [str(a).upper() for a in field.validation_alias.choices]
        for name in names:
            if name in values:
                return values[name], field_name, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(info, name)
            if value is not None:
                out[key] = value
        return out


class _Group(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZKA_", env_file=".env", extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _MetadataSource(settings_cls), file_secret_settings)


class ServerSettings(_Group):
    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    data_dir: Path = Path(".zka")
    tls_hostnames: list[str] = Field(default_factory=list, description="extra SANs for the TLS certificate")
    body_limit_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_origins: list[str] = Field(default_factory=list)
    # Proxies (IPs or CIDRs) whose X-Forwarded-For names the client; empty: the TCP peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    shutdown_timeout_s: float = 10.0
    # Connection limits, enforced by the HTTP protocol (app/core/http_protocol.py).
    header_limit_bytes: int = Field(default=16 * 1024, ge=1024, description="request line + headers, total")
    header_line_limit_bytes: int = Field(default=8 * 1024, ge=256, description="request line or one header")
    header_timeout_s: float = Field(default=10.0, gt=0, description="the whole head must arrive within this")
    keep_alive_timeout_s: int = Field(default=5, ge=1, description="idle before a request's first byte")
    max_connections: int = Field(default=512, ge=1, description="open connections; one more gets 503")
    # The platform gateway's gRPC EnclaveService (app/grpc/), beside HTTPS, in the same process; off when unset.
    grpc_port: int | None = Field(default=None, ge=1, le=65535, description="gRPC port; unset: no gRPC at all")
    grpc_client_ca: Path | None = Field(default=None, description="PEM CA bundle: gRPC clients must present a "
                                                                  "certificate it signed (mutual TLS)")

    @property
    def is_production(self) -> bool:
        return self.env == "production"


class DatabaseSettings(_Group):
    url: str | None = Field(default=None, validation_alias=AliasChoices("ZKA_DATABASE_URL", "DATABASE_URL"))
    db_echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is not None and not normalise_db_url(value).startswith(SUPPORTED_DATABASE_PREFIXES):
            raise ValueError(DATABASE_URL_RULE)
        return value


class KeySettings(_Group):
    master_key_source: Literal["auto", "file", "snp-derived"] = "auto"
    master_key: SecretStr | None = None  # 64 hex chars; development only
    snp_tcb_version: int | None = Field(default=None, description="pinned TCB for SNP_GET_DERIVED_KEY")
    snp_guest_device: Path = Path("/dev/sev-guest")
    # Attested DEK handoff (docs/key-handoff.md).
    key_handoff_enabled: bool = Field(default=False, description="serve POST /api/v1/keys/handoff (donor)")
    key_peers: str = Field(default="", description="comma-separated donor URLs tried at start when no wrapping opens")
    key_allowlist_file: Path | None = Field(default=None, description="operator-signed allow-list (Ed25519)")
    key_operator_public_key: str | None = Field(default=None, description="development only: operator key")
    key_dev_measurements: str = Field(default="", description="development only: allowed measurements, or self")
    key_handoff_min_tcb: dict[str, int] = Field(default_factory=dict, description="raises the lists' minimum TCB")
    key_handoff_nonce_ttl_s: float = Field(default=60.0, gt=0, le=600)

    @property
    def peer_urls(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.key_peers.split(",") if url.strip()]

    @field_validator("master_key")
    @classmethod
    def _hex64(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
                raise ValueError("must be 64 hex characters (32 bytes)")
        return value


class AttestationSettings(_Group):
    attestation_provider: Literal["auto", "configfs-tsm", "sev-guest", "snpguest", "simulated"] = "auto"
    attestation_min_interval_s: float = 2.0
    expected_measurements: list[str] = Field(default_factory=list)
    kds_url: str = "https://kdsintf.amd.com"
    snpguest_path: str = "snpguest"
    # Development: one simulated "AMD" root shared by several instances on this machine, each with its own
    # simulated chip (VCEK, chip id), so they can verify each other (key handoff). Unset: a root per instance.
    simulated_root_dir: Path | None = None


class AuthSettings(_Group):
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None  # PEM, ES256 or EdDSA
    jwt_audience: str = "zka"
    jwt_issuer: str | None = None
    jwt_max_lifetime_s: int = 3600
    jwt_leeway_s: int = 30
    log_api_key: SecretStr | None = None
    metrics_api_key: SecretStr | None = None  # Bearer token for GET /metrics; unset: loopback clients only

    @field_validator("metrics_api_key")
    @classmethod
    def _strong_metrics_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("ZKA_METRICS_API_KEY must be at least 32 characters")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (HS256 needs a strong key)")
        return value

    @property
    def gateway_configured(self) -> bool:
        return bool(self.jwt_secret or self.jwt_public_key)


class LimitSettings(_Group):
    rate_limit_credentials: str = "5/15minutes"  # per user
    rate_limit_reports: str = "20/minute"  # per user
    rate_limit_attestation: str = "10/minute"  # per client address
    rate_limit_verify: str = "60/minute"  # per client address
    rate_limit_per_address: str = "300/minute"  # flood limit per client address before the per-user ones
    rate_limit_key_handoff: str = "10/minute"  # per client address (another zka instance)
    rate_limits_enabled: bool = True
    log_stream_max_clients: int = 50
    log_stream_queue_size: int = 256
    log_ring_size: int = 1000

    @field_validator("*")
    @classmethod
    def _rate_limit(cls, value: Any, info: ValidationInfo) -> Any:
        """Every ZKA_RATE_LIMIT_<NAME> (present and future) parses, or start-up stops naming it."""
        if not (info.field_name or "").startswith("rate_limit_") or not isinstance(value, str):
            return value
        from limits import parse  # the server imports it anyway (app.core.rate_limit)

        try:
            parse(value)
        except ValueError:
            raise ValueError(RATE_LIMIT_RULE) from None
        return value


class SyncSettings(_Group):
    venue_urls: dict[str, str] = Field(default_factory=dict, description="JSON map venue -> base URL")
    sync_concurrency: int = Field(default=32, ge=1)
    sync_per_venue_concurrency: int = Field(default=8, ge=1)
    sync_retries: int = Field(default=3, ge=0)
    # Later attempts of the day for connections the 00:00 run could not snapshot, counted from 00:00 UTC.
    sync_retry_delays: str = "5m,30m,2h,6h"
    scheduler_enabled: bool = True
    benchmark_yahoo_url: str = "https://query1.finance.yahoo.com"
    benchmark_crypto_venue: str = "binance"
    benchmark_crypto_url: str | None = None

    @field_validator("venue_urls", mode="before")
    @classmethod
    def _json_map(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("sync_retry_delays")
    @classmethod
    def _retry_delays(cls, value: str) -> str:
        parse_retry_delays(value)
        return value

    @property
    def retry_delays(self) -> tuple[timedelta, ...]:
        return parse_retry_delays(self.sync_retry_delays)


RETRY_DELAYS_RULE = ('must be "off" or increasing delays after 00:00 UTC, each under 24h, at most '
                     f'{MAX_RETRIES_PER_DAY}, e.g. "5m,30m,2h,6h"')
_DELAY = re.compile(r"(\d{1,5})([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_retry_delays(text: str) -> tuple[timedelta, ...]:
    """"5m,30m,2h,6h" -> offsets from 00:00 UTC. Each stays within the day the run closes (a retry after
    24h would be the next day's run) and each is later than the one before; "off" means none."""
    if text.strip().lower() == "off":
        return ()
    delays: list[timedelta] = []
    for item in text.split(","):
        match = _DELAY.fullmatch(item.strip().lower())
        if match is None:
            raise ValueError(RETRY_DELAYS_RULE)
        delay = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
        if not timedelta(0) < delay < timedelta(days=1) or (delays and delay <= delays[-1]):
            raise ValueError(RETRY_DELAYS_RULE)
        delays.append(delay)
    if len(delays) > MAX_RETRIES_PER_DAY:
        raise ValueError(RETRY_DELAYS_RULE)
    return tuple(delays)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZKA_", env_file=".env", extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    config_source: Literal["env", "gce-metadata"] = "env"
    gce_metadata_url: str = "http://metadata.google.internal/computeMetadata/v1"
    server: ServerSettings = Field(default_factory=ServerSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    attestation: AttestationSettings = Field(default_factory=AttestationSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)

    @property
    def database_url(self) -> str:
        if self.db.url:
            return normalise_db_url(self.db.url)
        return f"sqlite+aiosqlite:///{(self.server.data_dir / 'zka.db').resolve()}"

    @property
    def master_key_source(self) -> str:
        """What `auto` means here: the hardware-derived key in production, the key file otherwise."""
        source = self.keys.master_key_source
        if source == "auto":
            return "snp-derived" if self.server.is_production else "file"
        return source

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def development_weaknesses(self) -> list[str]:
        """Everything that is weaker than production; shown in /health, attestation and at startup."""
        out = []
        if not self.server.is_production:
            out.append("development mode")
        if self.uses_sqlite:
            out.append("embedded SQLite database")
        if not self.auth.gateway_configured:
            out.append("gateway authentication disabled")
        if self.master_key_source != "snp-derived":
            out.append("master key from a local file or environment, not the AMD secure processor")
        if self.attestation.attestation_provider in ("simulated", "auto") and not self.server.is_production:
            out.append("attestation may be simulated (not signed by AMD)")
        if self.keys.key_operator_public_key or self.keys.key_dev_measurements:
            out.append("key handoff allow-list taken from the environment, not from the image")
        if self.log_api_key_too_short:
            out.append(f"ZKA_LOG_API_KEY shorter than {LOG_API_KEY_MIN_CHARS} characters (refused in production)")
        return out

    @property
    def log_api_key_too_short(self) -> bool:
        key = self.auth.log_api_key
        return key is not None and len(key.get_secret_value()) < LOG_API_KEY_MIN_CHARS

    def check_production_database(self) -> None:
        """Production data lives in PostgreSQL only (`zka serve` and `zka migrate` alike)."""
        if self.server.is_production and self.uses_sqlite:
            raise StartupRefused("production requires PostgreSQL: set DATABASE_URL (SQLite refused)")

    def check_production(self) -> None:
        """One clear line naming the first missing guarantee (SPEC §2)."""
        if not self.server.is_production:
            return
        self.check_production_database()
        if not self.auth.gateway_configured:
            raise StartupRefused("production requires gateway auth: set ZKA_JWT_SECRET or ZKA_JWT_PUBLIC_KEY")
        if self.keys.master_key is not None:
            raise StartupRefused("production refuses a master key from the environment: unset ZKA_MASTER_KEY")
        if self.keys.master_key_source not in ("snp-derived", "auto"):
            raise StartupRefused("production requires ZKA_MASTER_KEY_SOURCE=snp-derived")
        if self.attestation.attestation_provider == "simulated":
            raise StartupRefused("production refuses simulated attestation: set ZKA_ATTESTATION_PROVIDER")
        if self.keys.key_operator_public_key or self.keys.key_dev_measurements:
            raise StartupRefused(
                "production takes the key handoff allow-list only from the image (built-in list and operator "
                "key): unset ZKA_KEY_OPERATOR_PUBLIC_KEY and ZKA_KEY_DEV_MEASUREMENTS"
            )
        if self.log_api_key_too_short:
            raise StartupRefused(f"production requires ZKA_LOG_API_KEY of at least {LOG_API_KEY_MIN_CHARS} "
                                 "characters (e.g. `openssl rand -hex 32`), or leave it unset (loopback only)")


def ensure_data_dir(path: Path) -> None:
    """Create ZKA_DATA_DIR (0700) or say in one line why it cannot be used."""
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"ZKA_DATA_DIR {path} is a file, not a directory: choose a directory")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"ZKA_DATA_DIR {path} cannot be created ({exc.strerror}): "
                                 "choose a writable directory") from None


SUPPORTED_DATABASE_PREFIXES = ("postgresql+psycopg://", "sqlite+aiosqlite:///")


def normalise_db_url(url: str) -> str:
    for plain, driver in (("postgresql://", "postgresql+psycopg://"), ("postgres://", "postgresql+psycopg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


def fetch_gce_metadata(base_url: str, *, timeout_s: float = 2.0) -> dict[str, str]:
    """Instance attributes as {NAME_UPPER: value}; names may use '-' for '_'."""
    import httpx

    response = httpx.get(
        f"{base_url.rstrip('/')}/instance/attributes/",
        params={"recursive": "true"},
        headers={"Metadata-Flavor": "Google"},
        timeout=timeout_s,
    )
    if response.status_code != 200 or response.headers.get("Metadata-Flavor") != "Google":
        raise StartupRefused(f"GCE metadata server answered {response.status_code}; cannot load configuration")
    attributes = response.json()
    return {str(k).upper().replace("-", "_"): str(v) for k, v in attributes.items()}


def load_settings(**overrides: Any) -> Settings:
    """Build settings; with ZKA_CONFIG_SOURCE=gce-metadata, metadata attributes fill what env leaves unset.
    A variable that breaks its rule raises ConfigurationError (one line, no value)."""
    try:
        probe = Settings(**overrides)
        if probe.config_source != "gce-metadata":
            return probe
        token = _metadata_values.set(fetch_gce_metadata(probe.gce_metadata_url))
        try:
            return Settings(**overrides)
        finally:
            _metadata_values.reset(token)
    except (ValidationError, SettingsError) as exc:
        raise ConfigurationError(describe_settings_error(exc) or "invalid configuration: see .env.example") from None


_GROUPS: dict[str, type[BaseSettings]] = {}  # model name -> class, filled below
_SETTINGS_SOURCE_FIELD = re.compile(r'error parsing value for field "(\w+)"')


def describe_settings_error(exc: Exception) -> str | None:
    """"ZKA_PORT: <rule>" for the first broken variable, from pydantic's structured errors only: its
    rendered text carries the input value (`input_value=...`), and values include secrets."""
    if isinstance(exc, SettingsError):
        found = _SETTINGS_SOURCE_FIELD.search(str(exc))
        if not found:
            return None
        field = found.group(1)
        owner = next((g for g in _GROUPS.values() if field in g.model_fields), Settings)
        return f"{_variable_of(owner, (field,))}: not valid JSON (see .env.example)"
    if not isinstance(exc, ValidationError) or exc.title not in _GROUPS or not exc.errors():
        return None
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    rule = str(error["msg"]).removeprefix("Value error, ")
    rule = rule[:1].lower() + rule[1:]
    return f"{_variable_of(_GROUPS[exc.title], tuple(error['loc']))}: {rule} (see .env.example)"


def _variable_of(model: type[BaseSettings], loc: tuple[Any, ...]) -> str:
    """The environment variable behind a field location, following nested groups."""
    for i, part in enumerate(loc):
        info = model.model_fields.get(str(part))
        if info is None:
            # Located by an alias (ZKA_DATABASE_URL): name the field's documented variable (DATABASE_URL).
            for other in model.model_fields.values():
                if isinstance(other.validation_alias, AliasChoices) and part in other.validation_alias.choices:
                    return str(other.validation_alias.choices[-1])
            break
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings) and i + 1 < len(loc):
            model = nested
            continue
        if isinstance(info.validation_alias, AliasChoices):
            return str(info.validation_alias.choices[-1])
        return f"{model.model_config.get('env_prefix', '')}{part}".upper()
    return "configuration"  # pragma: no cover - pydantic always locates a field


_GROUPS.update({Settings.__name__: Settings, **{
    group.__name__: group for group in (info.annotation for info in Settings.model_fields.values())
    if isinstance(group, type) and issubclass(group, BaseSettings)}})
