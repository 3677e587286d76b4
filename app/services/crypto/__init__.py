"""Keys and enclave cryptography (SPEC §5): master key, DEK keyring, credentials at rest, E2E envelopes,
sealed keys, TLS identity and process hardening."""

from app.services.crypto.codec import credentials_from_json, credentials_to_json
from app.services.crypto.credentials_cipher import (
    credentials_hash,
    decrypt,
    decrypt_credentials,
    decrypt_legacy,
    encrypt,
    encrypt_credentials,
    import_legacy_credentials,
    legacy_credentials_hash,
)
from app.services.crypto.dek import Dek
from app.services.crypto.envelope import E2EKey, decrypt_envelope, open_envelope, seal_bytes, seal_credentials
from app.services.crypto.errors import (
    CredentialDecryptError,
    EnvelopeError,
    KeyUnavailable,
    MasterKeyError,
    RotationRefused,
)
from app.services.crypto.hardening import harden_process
from app.services.crypto.keyring import (
    RotationResult,
    add_wrapping,
    key_status,
    open_or_create_dek,
    rotate_dek,
)
from app.services.crypto.master_key import (
    FileMasterKeyProvider,
    HexMasterKeyProvider,
    MasterKeyProvider,
    master_key_id,
    select_provider,
)
from app.services.crypto.sealed import PURPOSE_E2E, PURPOSE_REPORT_SIGNING, load_or_create_sealed_key
from app.services.crypto.snp_derived_key import SEV_GUEST_LOCK, SnpDerivedKeyProvider, SnpKeyConfig
from app.services.crypto.tls_identity import (
    TlsFiles,
    TlsIdentity,
    build_ssl_context,
    fingerprint_colon_hex,
    generate_tls_identity,
    write_tls_files,
)

__all__ = [
    "PURPOSE_E2E",
    "PURPOSE_REPORT_SIGNING",
    "SEV_GUEST_LOCK",
    "CredentialDecryptError",
    "Dek",
    "E2EKey",
    "EnvelopeError",
    "FileMasterKeyProvider",
    "HexMasterKeyProvider",
    "KeyUnavailable",
    "MasterKeyError",
    "MasterKeyProvider",
    "RotationRefused",
    "RotationResult",
    "SnpDerivedKeyProvider",
    "SnpKeyConfig",
    "TlsFiles",
    "TlsIdentity",
    "add_wrapping",
    "build_ssl_context",
    "credentials_from_json",
    "credentials_hash",
    "credentials_to_json",
    "decrypt",
    "decrypt_credentials",
    "decrypt_envelope",
    "decrypt_legacy",
    "encrypt",
    "encrypt_credentials",
    "fingerprint_colon_hex",
    "generate_tls_identity",
    "harden_process",
    "import_legacy_credentials",
    "key_status",
    "legacy_credentials_hash",
    "load_or_create_sealed_key",
    "master_key_id",
    "open_envelope",
    "open_or_create_dek",
    "rotate_dek",
    "seal_bytes",
    "seal_credentials",
    "select_provider",
    "write_tls_files",
]
