"""Client-address helpers shared by the routes that serve loopback clients only when no key is set."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
