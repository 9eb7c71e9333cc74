"""Which users revoked their tokens (logout, password change), as a game server sees it.

The frontend writes a per-user "not before" time; a game server reads the new ones every heartbeat
(`poll`), refuses relayed requests whose token was issued earlier (`revoked`), and tells every realtime
process (`protocol.Revoked`) so it closes those users' live connections. Only the last `token_ttl` seconds
matter: an older token has expired anyway. No sockets here; the store is handed in.
"""

from __future__ import annotations

from collections.abc import Callable


class Revocations:
    def __init__(self, read: Callable[[float], list[tuple[int, float]]], token_ttl: float,
                 now: float) -> None:
        """`read(since)`: (user, not_before) of revocations later than `since` (`Store.revocations_since`)."""
        self.read = read
        self.token_ttl = token_ttl
        self.not_before: dict[int, float] = {}
        self._seen = now - token_ttl  # revocations up to here are known
        self.poll(now)

    def poll(self, now: float) -> list[tuple[int, float]]:
        """Read the revocations since the last poll; return them (each is news to tell realtime)."""
        fresh = [(user, before) for user, before in self.read(self._seen - 5.0)  # slack: late commits
                 if before > self.not_before.get(user, 0.0)]
        for user, before in fresh:
            self.not_before[user] = before
            self._seen = max(self._seen, before)
        horizon = now - self.token_ttl - 60.0  # older ones can void no live token
        if len(self.not_before) > 1000:
            self.not_before = {u: b for u, b in self.not_before.items() if b > horizon}
        return fresh

    def revoked(self, user: int, issued: float) -> bool:
        """Whether a token of `user` issued at `issued` was revoked (0: a sender that did not say)."""
        return issued < self.not_before.get(user, 0.0)
