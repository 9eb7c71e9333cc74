"""What keeps a game server's edges safe: where it may bind, whose connection a frame goes to, chat rates."""

from __future__ import annotations


def check_private_endpoint(endpoint: str) -> None:
    """Refuse to bind a game server anywhere the Internet could reach: loopback or private addresses only.

    >>> check_private_endpoint("tcp://127.0.0.1:5601"); check_private_endpoint("ipc:///tmp/g1")
    """
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme in ("ipc", "inproc"):
        return
    host = (parts.hostname or "").strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"game server endpoint {endpoint!r}: bind to an IP address (loopback or private), "
                         "not a name or a wildcard") from None
    if address.is_unspecified or address.is_global:
        raise ValueError(f"game server endpoint {endpoint!r} is public; game servers bind to loopback or "
                         "an internal address only")


def realtime_of(conn: str) -> str:
    """The realtime identity a connection id belongs to: "rt8101.3fa2c1:17" -> "rt8101.3fa2c1"."""
    return conn.rpartition(":")[0]


class ChatLimiter:
    """A token bucket per (table, user): `rate` lines per second, bursts of 5."""

    def __init__(self, rate: float, burst: float = 5.0) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}

    def allow(self, key: tuple[str, int], now: float) -> bool:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True

    def forget(self, table_id: str) -> None:
        for key in [k for k in self._buckets if k[0] == table_id]:
            del self._buckets[key]
