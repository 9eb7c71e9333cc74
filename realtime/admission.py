"""Who may open a new SockJS session: per-address limits on new and on unauthenticated sessions.

Owns `client_address(request)`, the one place that says which address a request comes from (every
transport and every limit asks it), and `Admission`: per address, a cap on sessions open but not yet
authenticated, and a token bucket on new sessions (websocket and the HTTP transports alike). A flood from
one address is refused before any session is built; people from other addresses never notice. IPv6
addresses count by their /64 network (one host usually holds a whole /64). Pure bookkeeping with an
injected clock: the SockJS adapter asks `admit` before it builds a session and reports `opened`,
`authenticated` and `closed`; it does no I/O.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from tornado.httputil import HTTPServerRequest

#: Addresses whose buckets are remembered before full (idle) ones are forgotten.
TRACKED = 10_000
TOO_MANY_UNAUTHENTICATED = "unauthenticated"  # reasons of a refusal (metrics labels, /healthz counters)
TOO_MANY_NEW = "new_sessions"


def client_address(request: HTTPServerRequest) -> str:
    """The address a client's request comes from: Tornado's `remote_ip`, which
    `realtime.addresses.Application` set before any handler ran to the TCP peer's address, or to the client a
    trusted proxy names (`trusted_proxies`; common/proxies.py). Every per-address decision goes through
    here."""
    return request.remote_ip or ""


def address_key(address: str) -> str:
    """What a limit counts by: an IPv4 address itself, an IPv6 address by its /64 network.

    >>> address_key("2001:db8::1") == address_key("2001:db8::ffff"), address_key("127.0.0.2")
    (True, '127.0.0.2')
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


class Admission:
    """Per-address counts of unauthenticated sessions, and a bucket of new sessions per address.

    `max_unauthenticated` sessions of one address may be open before they authenticate; new sessions
    come at `rate` a second per address, in bursts of up to `burst`. `on_refused(reason)` is told of each
    refusal (a metric).
    """

    def __init__(self, *, max_unauthenticated: int, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic,
                 on_refused: Callable[[str], None] = lambda reason: None) -> None:
        self.max_unauthenticated, self.rate, self.burst = max_unauthenticated, rate, burst
        self.clock = clock
        self.on_refused = on_refused
        self.unauthenticated: dict[str, int] = {}  # address key -> sessions open, not authenticated
        self._buckets: dict[str, tuple[float, float]] = {}  # address key -> (tokens, when)

    def admit(self, address: str) -> str | None:
        """May a new session from `address` open now? None if so (a token is taken), else why not."""
        key = address_key(address)
        reason = None
        if self.unauthenticated.get(key, 0) >= self.max_unauthenticated:
            reason = TOO_MANY_UNAUTHENTICATED
        else:
            now = self.clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1:
                reason = TOO_MANY_NEW
                self._buckets[key] = (tokens, now)
            else:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > TRACKED:
                    self._forget_idle(now)
        if reason is not None:
            self.on_refused(reason)
        return reason

    def retry_after(self) -> int:
        """Seconds a refused client should wait before it tries again (for `Retry-After`)."""
        return max(1, round(1 / self.rate))

    def opened(self, address: str) -> None:
        """A session from `address` opened; it counts as unauthenticated until `authenticated`/`closed`."""
        key = address_key(address)
        self.unauthenticated[key] = self.unauthenticated.get(key, 0) + 1

    def authenticated(self, address: str) -> None:
        """That session authenticated (or closed before it did): it no longer counts."""
        key = address_key(address)
        left = self.unauthenticated.get(key, 0) - 1
        if left > 0:
            self.unauthenticated[key] = left
        else:
            self.unauthenticated.pop(key, None)

    closed = authenticated

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled: an address seen once costs memory only while it matters."""
        full = float(self.burst)
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= full:
                del self._buckets[key]
        if len(self._buckets) > TRACKED // 2:  # addresses rotating faster than they refill: start over
            self._buckets.clear()
