"""Every message type round-trips; every bad shape is refused with the right code."""

from __future__ import annotations

import json
import random
import typing

import msgspec
import pytest

from common import protocol as p
from common.policy import TablePolicy
from common.views import FairCommit, FairContribution, FairReveal
from gameserver.rules.hearts import GAME as HEARTS

CLIENT = [
    p.Auth(token="abc"),
    p.Ping(req=1),
    p.Lobby(subscribe=False, req=1),
    p.ListTables(req=2),
    p.CreateTable(game="crazy_eights", seats=3, options={"queen_skips": True}, clock=30.0, public=False,
                  req=3),
    p.Join(table="g1-0001", seat=2, buy_in=5000, req=4),
    p.Leave(table="g1-0001", req=5),
    p.Watch(table="g1-0001", req=6),
    p.Start(table="g1-0001", req=7),
    p.AddBot(table="g1-0001", seat=1, req=8),
    p.Act(table="g1-0001", action=p.Play(card="8S", suit="H"), seq=9, req=9),
    p.Chat(table="g1-0001", text="gg", req=10),
    p.Resume(table="g1-0001", last_seq=12, req=11),
    p.Entropy(table="g1-0001", deal=3, commitment="ab" * 32, value="0f" * 32, req=12),
    p.SitOut(table="g1-0001", req=12),
    p.SitIn(table="g1-0001", req=13),
    p.TopUp(table="g1-0001", amount=500, req=14),
    p.CreateTable(game="holdem", seats=6, clock=20.0, policy=TablePolicy(time_bank=10, bank_max=40), req=15),
]
ACTIONS = [p.Play(card="QS"), p.Draw(), p.PassTurn(), p.PassCards(cards=["2C", "3C", "4C"]), p.Fold(),
           p.Check(), p.Call(), p.Bet(amount=200), p.Raise(to=600)]
SERVER = [
    p.Welcome(user=1, name="ann"),
    p.Ack(req=1, table="g1-0001", seat=0),
    p.Pong(req=3),
    p.Error(code=p.E_ILLEGAL_MOVE, text="no", req=4, table="g1-0001"),
    p.Tables(tables=[p.TableInfo(id="g1-0001", game="hearts", seats=4, players=["ann", None, None, None],
                                 status="waiting")], req=5),
    p.View(table="g1-0001", seq=3, view=HEARTS.view(HEARTS.setup(4, random.Random(1), {}), 0), game="hearts",
           status="playing", players=["a", "b", "c", "d"], bots=[1], seat=0, events=[{"kind": "played"}],
           deadline=12.5, policy=TablePolicy(), time_banks=[30.0, 0.0, 12.5, 30.0], bank_ends={0: 42.5},
           sitting_out=[3]),
    p.View(table="g1-0002", seq=1, game="holdem", players=["a", None], seat=0,  # a cash table, no hand yet
           cash=p.CashInfo(table_stacks=[2000, 0], hand_no=0, next_hand_at=None, min_buy_in=2000,
                           max_buy_in=20000)),
    p.View(table="g1-0003", seq=7, game="crazy_eights", players=["a", "b"], seat=1,  # a fair deal announced
           fair=FairCommit(scheme="felt-shuffle-v1", deal=2, commitment="ab" * 32, seats=[0, 1],
                           contributed=[1], server=[0]),
           reveal=FairReveal(scheme="felt-shuffle-v1", table="g1-0003", deal=1, game="crazy_eights",
                             commitment="cd" * 32, seed="01" * 32, nonce="02" * 16,
                             contributions=[FairContribution(seat=0, value="03" * 32, by="server")],
                             context={"seats": 2})),
    p.GameOver(table="g1-0001", seq=9, scores=[0, 12], players=["a", "b"], winners=[0]),
    p.ChatLine(table="g1-0001", name="ann", text="hi", ts=1.0),
    p.ChatHistory(table="g1-0001", lines=[p.ChatLine(table="g1-0001", name="ann", text="hi", ts=1.0)]),
    p.Move(url="http://127.0.0.1:8102/sockjs", text="this server is going away"),
    p.LobbyUpdate(tables=[p.TableInfo(id="g2-0001", game="holdem", seats=9, players=[None] * 9,
                                      status="playing", spectators=2)], removed=["g1-0003"]),
    p.TableStatus(table="g1-0001", available=False, text="restarting"),
]
INTERNAL = [
    p.Forward(conn="rt1:1", user=1, name="ann", rid=7, body=p.Join(table="g1-0001")),
    p.Heartbeat(sender="g1", tables=3),
    p.ConnClosed(conn="rt1:1"),
    p.Deliver(conns=["rt1:1", "rt1:2"], frame='{"msg":"pong"}', rid=3, close=True),
    p.Delivers(items=[p.DeliverItem(conns=["rt1:1"], size=14, rid=3), p.DeliverItem(conns=["rt1:2"], size=2,
                                                                                     close=True)]),
    p.TablesChanged(tables=[], removed=["g1-0002"]),
    p.Moved(rid=9, table="g1-0003", owner="g2"),
    p.TablesMoved(tables=["g1-0003", "g1-0004"], owner="g2"),
    p.Revoked(user=7, before=1700000000.5),
]


def test_every_message_type_is_covered() -> None:
    def members(union: object) -> set[type]:
        return set(typing.get_args(union))

    assert members(p.ClientMessage) == {type(m) for m in CLIENT}
    assert members(p.ServerMessage) == {type(m) for m in SERVER}
    assert members(p.InternalMessage) == {type(m) for m in INTERNAL}
    assert members(p.Action) == {type(a) for a in ACTIONS}


@pytest.mark.parametrize("msg", CLIENT, ids=lambda m: type(m).__name__)
def test_client_messages_round_trip(msg: msgspec.Struct) -> None:
    assert p.decode_client(p.encode(msg)) == msg


@pytest.mark.parametrize("msg", SERVER, ids=lambda m: type(m).__name__)
def test_server_messages_round_trip(msg: msgspec.Struct) -> None:
    assert p.decode_server(p.encode_str(msg)) == msg


@pytest.mark.parametrize("msg", INTERNAL, ids=lambda m: type(m).__name__)
def test_internal_messages_round_trip(msg: msgspec.Struct) -> None:
    assert p.decode_internal(p.encode(msg)) == msg


def test_a_pass_of_frames_crosses_as_one_header_and_the_frames_untouched() -> None:
    chat = p.encode(p.ChatLine(table="g1-0001", name="ann", text='say "hi" \\ ü', ts=1.5))
    ack = p.encode(p.Ack(req=3, table="g1-0001"))
    header, body = p.encode_delivers([(["rt1:1", "rt1:2"], chat, None, False, "g1-0001"),
                                      (["rt1:1"], ack, 3, True, None)])
    assert body == chat + ack  # as they go to the client: not escaped into the header, not re-encoded
    assert b"chat_line" not in header and len(header) < 120
    older = p.encode(p.Deliver(conns=["rt1:9"], frame='{"msg":"pong"}'))  # an older server: frame inside
    got = p.decode_parts([header, body, p.encode(p.Heartbeat(sender="g1")), older])
    assert got == [p.Deliver(conns=["rt1:1", "rt1:2"], frame=chat.decode(), table="g1-0001"),
                   p.Deliver(conns=["rt1:1"], frame=ack.decode(), rid=3, close=True),
                   p.Heartbeat(sender="g1"), p.Deliver(conns=["rt1:9"], frame='{"msg":"pong"}')]


@pytest.mark.parametrize("parts", [[p.encode_delivers([(["rt1:1"], b"{}", None, False, None)])[0]],  # no body
                                   [p.encode_delivers([(["rt1:1"], b"{}", None, False, None)])[0], b"{}{}"],
                                   list(p.encode_delivers([(["rt1:1"], b"\xff\xfe", None, False, None)])),
                                   [b'{"msg":"view"}']])  # a frame where a message should be
def test_malformed_parts_are_refused(parts: list[bytes]) -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_parts(parts)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: type(a).__name__)
def test_actions_round_trip(action: p.Action) -> None:
    act = p.Act(table="t", action=action)
    assert p.decode_client(p.encode(act)) == act
    assert p.action_from_builtins(p.to_builtins(action)) == action


def test_wire_form_is_tagged() -> None:
    assert p.encode(p.Act(table="t", action=p.Draw(), req=1)) == \
        b'{"msg":"act","table":"t","action":{"type":"draw"},"req":1}'


@pytest.mark.parametrize(("raw", "code", "req"), [
    ("{not json", p.E_BAD_JSON, None),
    ("", p.E_BAD_JSON, None),
    ("[1, 2]", p.E_NOT_OBJECT, None),
    ('"auth"', p.E_NOT_OBJECT, None),
    ("42", p.E_NOT_OBJECT, None),
    ('{"req": 3}', p.E_UNKNOWN_MSG, 3),
    ('{"msg": "fly", "req": 4}', p.E_UNKNOWN_MSG, 4),
    ('{"msg": 5}', p.E_UNKNOWN_MSG, None),
    ('{"msg": "join", "req": 5}', p.E_BAD_FIELD, 5),
    ('{"msg": "join", "table": 12, "req": 6}', p.E_BAD_FIELD, 6),
    ('{"msg": "join", "table": "t", "seat": "two", "req": 7}', p.E_BAD_FIELD, 7),
    ('{"msg": "join", "table": "t", "req": "x"}', p.E_BAD_FIELD, None),
    ('{"msg": "join", "table": "t", "req": true}', p.E_BAD_FIELD, None),
    ('{"msg": "act", "table": "t", "action": {"type": "teleport"}, "req": 8}', p.E_BAD_FIELD, 8),
    ('{"msg": "act", "table": "t", "action": {"type": "play"}, "req": 9}', p.E_BAD_FIELD, 9),
    ('{"msg": "act", "table": "t", "action": {"type": "bet", "amount": "lots"}}', p.E_BAD_FIELD, None),
    ('{"msg": "act", "table": "t", "action": {"type": "draw", "extra": 1}}', p.E_BAD_FIELD, None),
    ('{"msg": "create_table", "game": "hearts", "seats": 4.5}', p.E_BAD_FIELD, None),
])
def test_bad_frames_are_refused_with_a_code(raw: str, code: str, req: int | None) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client(raw)
    assert info.value.code == code
    assert info.value.req == req
    assert info.value.text


def test_error_names_the_field() -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client('{"msg": "join", "table": 12}')
    assert "$.table" in info.value.text


def test_oversized_frame_is_refused_before_parsing() -> None:
    big = '{"msg": "ping", "padding": "' + "x" * p.MAX_FRAME_BYTES + '"}'
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client(big)
    assert info.value.code == p.E_TOO_LARGE
    assert p.decode_client(big, max_bytes=len(big))  # the limit is the only objection


def test_internal_decode_errors_are_protocol_errors() -> None:
    for raw in (b"\xff", b"{}", b'{"msg": "fwd"}'):
        with pytest.raises(p.ProtocolError):
            p.decode_internal(raw)


SPOOFS = ["nul\x00", "bell\x07", "\x1b[31mred", "del\x7f", "c1\x9b", "evil\u202egnp.exe", "iso\u2066late",
          "zero\u200bwidth", "bom\ufeff", "line\u2028sep", "private\ue000", "lrm\u200e"]


@pytest.mark.parametrize("text", SPOOFS)
def test_chat_with_control_bidi_or_invisible_characters_is_refused(text: str) -> None:
    assert p.text_problem(text) is not None
    raw = p.encode_str(p.Ping(req=1)).replace('"ping"', '"chat"')[:-1] + ',"table":"g1-0001","text":' \
        + json.dumps(text) + "}"
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client(raw)
    assert info.value.code == p.E_BAD_TEXT and info.value.req == 1, info.value
    assert "U+" in info.value.text


@pytest.mark.parametrize("text", ["gg", "héllo wörld", "日本語のチャット", "emoji 🙂 ok",
                                  "quotes \" ' <b>"])
def test_ordinary_chat_passes(text: str) -> None:
    assert p.text_problem(text) is None
    msg = p.decode_client(json.dumps({"msg": "chat", "table": "g1-0001", "text": text}))
    assert isinstance(msg, p.Chat) and msg.text == text


@pytest.mark.parametrize("raw", [
    '{"msg": "join", "table": "g1-0001", "seat": 99}',
    '{"msg": "join", "table": "g1-0001", "buy_in": 1000000000000000000}',
    '{"msg": "join", "table": "' + "g" * 41 + '"}',
    '{"msg": "act", "table": "g1-0001", "action": {"type": "bet", "amount": -5}}',
    '{"msg": "act", "table": "g1-0001", "action": {"type": "raise", "to": 1e300}}',
    '{"msg": "act", "table": "g1-0001", "action": {"type": "pass_cards", "cards": '
    + json.dumps(["2C"] * 14) + "}}",
    '{"msg": "create_table", "game": "hearts", "seats": 100000}',
    '{"msg": "create_table", "game": "hearts", "seats": 4, "clock": 1e12}',
    '{"msg": "resume", "table": "g1-0001", "last_seq": -1}',
    '{"msg": "chat", "table": "g1-0001", "text": "' + "x" * (p.MAX_CHAT_CHARS + 1) + '"}',
])
def test_every_number_has_a_range_and_every_string_a_length(raw: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client(raw, max_bytes=100_000)
    assert info.value.code == p.E_BAD_FIELD, info.value


def test_deep_json_is_bad_json_not_a_recursion_error() -> None:
    for depth in (9, 1000, 100_000):
        raw = '{"msg": "create_table", "game": "hearts", "seats": 4, "options": {"a": ' + "[" * depth \
            + "]" * depth + "}}"
        with pytest.raises(p.ProtocolError) as info:
            p.decode_client(raw, max_bytes=10**7)
        assert info.value.code == p.E_BAD_JSON, depth
    assert p.decode_client('{"msg": "create_table", "game": "hearts", "seats": 4, "options": {"a": [[1]]}}')
