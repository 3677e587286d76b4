"""Errors raised by the key and crypto services.

Every message is safe to show: it never contains key bytes, plaintext credentials or ciphertext.
"""

from __future__ import annotations

from app.errors import AppError, BadRequest, ServiceUnavailable, StartupRefused


class EnvelopeError(BadRequest):
    """An E2E credential envelope was rejected. `code` says which check failed."""

    code = "invalid_envelope"


class CredentialDecryptError(AppError):
    """Stored credentials could not be decrypted (wrong DEK, tampered or moved ciphertext)."""

    code = "credentials_unreadable"

    def __init__(self, message: str = "stored credentials could not be decrypted") -> None:
        super().__init__(message)


class KeyUnavailable(ServiceUnavailable):
    """No DEK can be opened with this instance's master key; credentials are unusable until fixed."""

    code = "key_unavailable"


class NoWrappingHere(KeyUnavailable):
    """The keyring has an active DEK, but no wrapping of it opens with this instance's master key: the DEK
    must come from another instance by attested handoff."""

    def __init__(self, message: str, *, dek_id: str, master_key_ids: list[str]) -> None:
        super().__init__(message)
        self.dek_id = dek_id
        self.master_key_ids = master_key_ids


class RotationRefused(AppError):
    """A DEK rotation was refused because it would lose data or access."""

    status_code = 409
    code = "rotation_refused"


class MasterKeyError(StartupRefused):
    """The master key could not be loaded; the service must not start."""
