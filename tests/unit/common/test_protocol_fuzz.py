"""Hypothesis throws random and mutated frames at the client decoder: it refuses with a ProtocolError (whose
text carries no traceback) or returns a typed message, and never raises anything else or hangs.

`FELT_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/unit/common/test_protocol_fuzz.py` is the
longer soak (the normal run tries a few hundred frames per property).
"""

from __future__ import annotations

import json
import os
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from common import protocol as p

EXAMPLES = int(os.environ.get("FELT_FUZZ_EXAMPLES", "300"))

VALID = [
    '{"msg": "auth", "token": "abc"}',
    '{"msg": "join", "table": "g1-0001", "seat": 1, "req": 3}',
    '{"msg": "act", "table": "g1-0001", "action": {"type": "pass_cards", "cards": ["2C", "3C", "4C"]}}',
    '{"msg": "chat", "table": "g1-0001", "text": "gg", "req": 9}',
    '{"msg": "create_table", "game": "hearts", "seats": 4, "options": {"target": 50}}',
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=30)


def decoded_or_refused(raw: str | bytes) -> None:
    start = time.monotonic()
    try:
        msg = p.decode_client(raw)
    except p.ProtocolError as exc:
        assert exc.code in {p.E_BAD_JSON, p.E_NOT_OBJECT, p.E_UNKNOWN_MSG, p.E_BAD_FIELD, p.E_TOO_LARGE,
                            p.E_BAD_TEXT}, exc.code
        assert "Traceback" not in exc.text
        assert exc.req is None or isinstance(exc.req, int)
    else:
        assert isinstance(msg, p.Msg)
        p.encode(msg)  # whatever decodes encodes again
    assert time.monotonic() - start < 1.0


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_random_text_is_refused_or_decoded(raw: str | bytes) -> None:
    decoded_or_refused(raw)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(VALID), st.integers(min_value=0, max_value=200), st.text(max_size=12))
def test_mutated_frames_are_refused_or_decoded(frame: str, at: int, insert: str) -> None:
    at %= len(frame) + 1
    decoded_or_refused(frame[:at] + insert + frame[at:])
    decoded_or_refused(frame[:at] + frame[at + len(insert):])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(["auth", "join", "act", "chat", "create_table", "resume", "watch", "ping"]),
       st.dictionaries(st.sampled_from(["table", "seat", "req", "text", "action", "options", "token", "seats",
                                        "game", "buy_in", "last_seq", "seq", "clock"]), json_values,
                       max_size=6))
def test_typed_messages_with_random_fields_are_refused_or_decoded(kind: str,
                                                                  fields: dict[str, object]) -> None:
    decoded_or_refused(json.dumps({"msg": kind, **fields}, allow_nan=True))
