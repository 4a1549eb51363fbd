"""Where players reach this server: the join address shown on the host screen and in the QR code.

``--public-url`` wins. Otherwise, a server listening on every interface (the default) finds the
machine's LAN address at start and puts that in join links, because ``localhost`` is the one
address no phone can open. A server that only listens on loopback, or a machine with no network
address, says so plainly (in the log and on the host screen), with the fix.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from dataclasses import dataclass

__all__ = ["Reach", "find_reach", "lan_address"]

_WILDCARDS = {"0.0.0.0", "::", ""}
# The UDP "connect" below sends no packet: it only asks the kernel which source address it
# would use for that destination. Private and documentation ranges, so nothing leaves anyway.
_PROBES = ("10.255.255.255", "192.168.255.255", "172.31.255.255", "192.0.2.255")


@dataclass(frozen=True, slots=True)
class Reach:
    """``url``: the base URL players open (None: use the request's own address).
    ``note``: why phones may not be able to join, and how to fix it (None when they can)."""

    url: str | None
    note: str | None = None
    listen: str = ""


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def lan_address() -> str | None:
    """This machine's IPv4 address on its network, or None if it only has loopback."""
    for probe in _PROBES:
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s,
        ):
            s.connect((probe, 9))
            address = str(s.getsockname()[0])
            if _usable(address):
                return address
    with contextlib.suppress(OSError):
        for address in socket.gethostbyname_ex(socket.gethostname())[2]:
            if _usable(address):
                return address
    return None


def _url(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


def find_reach(host: str, port: int, public_url: str | None) -> Reach:
    """The join address for a server listening on ``host:port``."""
    listen = _url(host if host not in _WILDCARDS else "0.0.0.0", port)
    if public_url:
        return Reach(public_url.rstrip("/"), None, listen)
    if port == 0:  # the port is picked later: join links use each request's own address
        return Reach(None, None, listen)
    if host in _WILDCARDS:
        address = lan_address()
        if address is None:
            return Reach(
                None,
                "This computer has no network address, so phones cannot reach it. Connect it "
                "to the Wi-Fi the phones use and restart, or start the server with "
                "--public-url http://ADDRESS:PORT.",
                listen,
            )
        return Reach(_url(address, port), None, listen)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return Reach(
            None,
            f"The server listens on {host} only, so only this computer can open it and phones "
            "cannot join. Restart with `weirsoe serve` (every interface, the default) or "
            "`weirsoe serve --host <this computer's address>`.",
            listen,
        )
    return Reach(_url(host, port), None, listen)
