"""Whose address a request comes from: the socket peer, or what a trusted proxy in front says.

A proxy (haproxy) in front of the frontend and the realtime servers connects from its own address and names
the client's in `X-Forwarded-For` (and some in `X-Real-IP`). Anyone can send those headers, so they count
only when the TCP peer is one of the `trusted_proxies` (addresses or networks, e.g. `127.0.0.1`,
`10.0.0.0/24`). Otherwise the peer's address is the client's: a browser that connects directly and claims
another address is known by the one it connects from.

From a trusted peer the client is the rightmost `X-Forwarded-For` address that is not itself a trusted proxy
(each proxy appends the address it saw, so what is left of that was written by the client and proves
nothing: it is not even read); `X-Real-IP` counts only when there is no `X-Forwarded-For`. An address that
does not parse where one is needed makes the peer the client, never an error. Both tiers take their client
address from here (`realtime.addresses`, `frontend.proxies`); this module is pure and knows no framework.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Iterable[str]) -> tuple[_Network, ...]:
    """`trusted_proxies` entries as networks (an address is a network of one); ValueError naming a bad one."""
    networks: list[_Network] = []
    for entry in entries:
        text = entry.strip()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _address(text: str) -> _Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443" (RFC 7239 style), seen in the wild
        text = text[1:text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # "::ffff:127.0.0.1" from a dual-stack socket is 127.0.0.1
    return address


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose forwarded-address headers are believed (none: the peer is always the client)."""

    networks: tuple[_Network, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> TrustedProxies:
        return cls(parse_networks(entries))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, peer: str) -> bool:
        address = _address(peer)
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer: str, forwarded_for: str | None, real_ip: str | None) -> str:
        """The client's address of a request from TCP peer `peer` carrying these header values (None:
        absent; several `X-Forwarded-For` lines joined by commas)."""
        if not self.trusts(peer):
            return peer
        if forwarded_for:
            hops = forwarded_for.split(",")
            for text in reversed(hops):  # read only what trusted proxies appended: the rest is the client's
                hop = _address(text)
                if hop is None:
                    return peer  # a proxy of ours wrote this? it does not: a broken chain, believe none of it
                if not any(hop in network for network in self.networks):
                    return str(hop)
            return str(_address(hops[0]))  # every hop a trusted proxy: the client is one of them
        if real_ip:
            address = _address(real_ip)
            if address is not None:
                return str(address)
        return peer
