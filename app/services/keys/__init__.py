"""The enclave's keys: loading them at start (enclave.py) and handing the DEK to another attested instance
(handoff: protocol, allow-list, donor, requester, audit). Protocol: docs/key-handoff.md."""

from app.services.keys.enclave import EnclaveKeys, load_enclave_keys, master_key_provider

__all__ = ["EnclaveKeys", "load_enclave_keys", "master_key_provider"]
