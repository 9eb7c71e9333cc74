"""A table's chat on its game server: the checks a line passes, and the recent lines kept for whoever
opens the table later (a reload, a resume on another realtime process, a newcomer).

A line is stored in the pass's group commit and relayed only once that commit holds; it joins the
recent lines at the same moment (`committed`), so a rolled-back pass leaves no line behind in memory
that the log does not hold. Tables loaded from the database bring their recent lines with them
(`load`), so the history survives a restart and a hand-over.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container, Iterable

from common import protocol as p
from gameserver.guards import ChatLimiter

#: Lines kept per table and sent to a connection that opens the table.
CHAT_HISTORY = 50


class TableChat:
    """Every table's recent chat on one game server, and the chat rate limit."""

    def __init__(self, max_chars: int, rate: float) -> None:
        self.max_chars = max_chars
        self.limiter = ChatLimiter(rate)
        self._recent: dict[str, deque[p.ChatLine]] = {}
        self._pending: list[p.ChatLine] = []

    def refusal(self, table_id: str, user: int, text: str, watching: bool,
                now: float) -> tuple[str, str] | None:
        """Why this line may not be said (an error code and text), or None."""
        if not watching:
            return p.E_NOT_SEATED, "join or watch the table to chat"
        if not text:
            return p.E_BAD_FIELD, "empty chat message"
        if len(text) > self.max_chars:
            return p.E_BAD_FIELD, f"chat messages are limited to {self.max_chars} characters"
        if (problem := p.text_problem(text)) is not None:  # defence in depth: decoding refused it
            return p.E_BAD_TEXT, f"chat text may not contain {problem}"
        if not self.limiter.allow((table_id, user), now):
            return p.E_RATE_LIMITED, "you are chatting too fast; wait a moment"
        return None

    def said(self, line: p.ChatLine) -> None:
        """A line stored in this pass: it joins the history once the pass commits."""
        self._pending.append(line)

    def committed(self, served: Container[str]) -> None:
        """The pass's commit is over: its lines join the history of the tables still `served` (none
        when the commit failed; a fenced table is not served any more)."""
        for line in self._pending:
            if line.table in served:
                self._recent.setdefault(line.table, deque(maxlen=CHAT_HISTORY)).append(line)
        self._pending.clear()

    def load(self, table_id: str, lines: Iterable[p.ChatLine]) -> None:
        """The recent lines of a table taken into memory (oldest first)."""
        self._recent[table_id] = deque(lines, maxlen=CHAT_HISTORY)

    def history(self, table_id: str) -> str | None:
        """The encoded `chat_history` frame of a table, or None when nobody has said anything."""
        lines = self._recent.get(table_id)
        if not lines:
            return None
        return p.encode_str(p.ChatHistory(table=table_id, lines=list(lines)))

    def forget(self, table_id: str) -> None:
        self._recent.pop(table_id, None)
        self.limiter.forget(table_id)
