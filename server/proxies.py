"""Reverse proxies the operator trusts (ENTRAIDE_TRUSTED_PROXIES), and what they may tell us.

Only a peer named here may say who the client is (X-Forwarded-For) and how it came
(X-Forwarded-Proto); from anyone else these headers are ignored, or anybody could pick the
address their failed logins are counted against.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_TRUSTED_PROXIES = "127.0.0.1/8,::1"
# Longest client address kept from a header: an IPv6 address with a zone fits.
_MAX_ADDRESS = 64


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """Read a comma-separated list of addresses and CIDRs; raise ValueError naming a bad one."""
    networks: list[Network] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            # strict=False: "127.0.0.1/8" means the network 127.0.0.0/8, as people write it.
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or a CIDR") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(trusted: Sequence[Network], peer: str | None) -> bool:
    """Tell whether `peer` (the TCP peer's address) is one of the operator's reverse proxies."""
    address = _address(peer) if peer else None
    return address is not None and any(address in network for network in trusted)


def forwarded_client(trusted: Sequence[Network], peer: str | None, forwarded_for: str) -> str:
    """Return the client's address: the right-most untrusted hop of X-Forwarded-For.

    Each trusted proxy appends the address it was reached from, so reading from the right and
    skipping our own proxies gives the first address no proxy of ours vouches for; whatever
    lies to its left was written by the client and may be forged. From a peer that is not a
    trusted proxy, the header is ignored. When every hop is trusted (a client on the proxy's
    own machine), the left-most one is the client.
    """
    if not peer:
        return "unknown"
    if not forwarded_for or not is_trusted_proxy(trusted, peer):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(trusted, hop):
            return hop[:_MAX_ADDRESS]
    return hops[0][:_MAX_ADDRESS] if hops else peer


def forwarded_scheme(
    trusted: Sequence[Network], peer: str | None, forwarded_proto: str, scheme: str
) -> str:
    """Return the scheme the client used: X-Forwarded-Proto from a trusted proxy, else ours."""
    proto = forwarded_proto.split(",")[-1].strip().lower()
    if proto in ("http", "https") and is_trusted_proxy(trusted, peer):
        return proto
    return scheme


def forwarded_host(trusted: Sequence[Network], peer: str | None, forwarded: str, host: str) -> str:
    """Return the host the client asked for: X-Forwarded-Host from a trusted proxy, else Host.

    A proxy that rewrites Host (nginx's default `proxy_set_header Host $proxy_host`) keeps the
    client's in X-Forwarded-Host; the last value is the one our own proxy wrote.
    """
    last = forwarded.split(",")[-1].strip()
    if last and is_trusted_proxy(trusted, peer):
        return last
    return host
