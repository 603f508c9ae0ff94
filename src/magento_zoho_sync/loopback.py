"""Which hosts count as this machine: the one answer both the settings check and the HTTP clients use.

Plain ``http://`` is allowed only to these (the simulators, a local tunnel) unless the user passes the explicit
insecure flag. ``localhost`` and every name under ``.localhost`` (RFC 6761 §6.3: resolvers return loopback
addresses for them) and the loopback addresses 127.0.0.0/8 and ``::1``, with or without brackets or a trailing
dot. Other aliases such as ``localhost.localdomain`` live in /etc/hosts, which may not have them, so a name
lookup could send the request elsewhere: they are not trusted.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` (and ``*.localhost``), 127.0.0.0/8 and ``::1``."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
