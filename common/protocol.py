"""Every message Felt sends or accepts, in one place.

Owns the shapes of client <-> realtime messages and realtime <-> gameserver messages, the protocol
version, the error codes, and `encode`/`decode`. Decoding validates in the same pass (msgspec typed
structs with a tagged union per direction), so a message that decodes is well formed. No other module
builds protocol dicts by hand. Imports nothing from any tier.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

import msgspec

from common import tagged
from common.policy import TablePolicy
from common.sitandgo import SitAndGo
from common.views import FairCommit, FairReveal, GameView, SitAndGoInfo

#: The newest client protocol this version speaks; a client says which it speaks in `auth` (1 when it
#: says nothing) and the `welcome` names the one the connection uses. 2: an applied `act` is answered by
#: the mover's `view` carrying its `req` (the ack folded in), not by an `ack` and then the view.
PROTOCOL_VERSION = 2
#: The first version that folds an applied act's ack into the mover's view.
FOLDED_ACKS = 2

#: Largest client frame (bytes of JSON) the realtime tier accepts.
MAX_FRAME_BYTES = 8 * 1024
#: Deepest JSON nesting of a client frame (the deepest real message, `act` with `pass_cards`, is 3).
MAX_JSON_DEPTH = 8


#: The types of bounded fields: every number a client sends has a range, every string a length.
Req = Annotated[int, msgspec.Meta(ge=-(2**53), le=2**53)]  # a request id (any JSON-safe integer)
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seat = Annotated[int, msgspec.Meta(ge=0, le=63)]
Chips = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
#: How late a table's spectators see it: seconds (0: live), or "hand" (one whole hand behind).
SpectatorDelay = Annotated[float, msgspec.Meta(ge=0, le=600)] | Literal["hand"]
TableId = Annotated[str, msgspec.Meta(max_length=40)]
Card = Annotated[str, msgspec.Meta(max_length=3)]
#: A private table's invite code, as a client sends it (the server makes them with 18 random bytes: 24 chars).
InviteCode = Annotated[str, msgspec.Meta(max_length=64)]
Options = Annotated[dict[Annotated[str, msgspec.Meta(max_length=40)], Any], msgspec.Meta(max_length=32)]
#: Longest chat line the protocol carries; `chat_max_chars` (a setting, 300) is checked by the game server.
MAX_CHAT_CHARS = 2000


class ProtocolError(Exception):
    """A frame that cannot be accepted; `code` is machine-readable, `text` is for people."""

    def __init__(self, code: str, text: str, req: int | None = None) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text
        self.req = req


# Error codes, grouped by who raises them. Clients may switch on these strings.
E_BAD_JSON = "bad_json"  # not JSON at all
E_NOT_OBJECT = "not_object"  # JSON, but not an object
E_UNKNOWN_MSG = "unknown_msg"  # missing or unknown "msg"
E_BAD_FIELD = "bad_field"  # missing or wrongly typed field
E_TOO_LARGE = "too_large"  # frame over MAX_FRAME_BYTES
E_TOO_SLOW = "too_slow"  # the connection fell too far behind reading what it was sent: closed (4008)
E_AUTH_REQUIRED = "auth_required"  # first message was not auth, or auth timed out
E_TOKEN_INVALID = "token_invalid"  # forged, tampered, unknown key, malformed
E_TOKEN_EXPIRED = "token_expired"
E_TOKEN_REVOKED = "token_revoked"  # issued before its user logged out or changed password: closed (4001)
E_ALREADY_AUTHED = "already_authed"
E_REPLACED = "replaced"  # the same user connected again elsewhere
E_NO_TABLE = "no_table"
E_BAD_TABLE = "bad_table"  # invalid create_table settings
E_TABLE_FULL = "table_full"
E_SEAT_TAKEN = "seat_taken"
E_NOT_SEATED = "not_seated"
E_ALREADY_SEATED = "already_seated"
E_NOT_CREATOR = "not_creator"
E_NOT_STARTED = "not_started"
E_ALREADY_STARTED = "already_started"
E_GAME_OVER = "game_over"
E_NOT_YOUR_TURN = "not_your_turn"
E_ILLEGAL_MOVE = "illegal_move"
E_STALE = "stale"  # act carried a seq older than the table's
E_RATE_LIMITED = "rate_limited"
E_UNAVAILABLE = "unavailable"  # the table's game server is down or unknown
E_TIMEOUT = "timeout"  # the game server did not answer in time
E_OVERLOADED = "overloaded"
E_INSUFFICIENT_CHIPS = "insufficient_chips"  # a buy-in the balance cannot pay (checked when it is debited)
E_BAD_TEXT = "bad_text"  # a chat line (or name) with control, bidi-override or invisible characters
E_FORBIDDEN = "forbidden"  # a relayed request for a player the game server does not know (refused, logged)
E_KICKED = "kicked"  # pushed: an admin removed this player from the table (the admin console)
E_TABLE_CLOSED = "table_closed"  # pushed to everyone at a table an admin closed (the admin console)
E_NO_COMMITMENT = "no_commitment"  # an entropy message for an old, unknown or already dealt commitment
E_ALREADY_CONTRIBUTED = "already_contributed"  # a second entropy message for the same deal
E_INTERNAL = "internal"


def text_problem(text: str) -> str | None:
    """Why `text` may not be shown to other people, or None. Refused: control characters (NUL, BEL, the
    ESC of ANSI sequences, C1), Unicode format characters (bidi overrides and isolates such as U+202E,
    zero-width spaces and joiners, the BOM), line and paragraph separators, surrogates, private-use and
    unassigned code points.

    >>> text_problem("gg, well played"), text_problem("evil\u202egnp.exe")
    (None, 'U+202E RIGHT-TO-LEFT OVERRIDE')
    """
    if text.isascii():
        if text.isprintable():
            return None
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"
    return None


class Msg(msgspec.Struct, tag_field="msg", forbid_unknown_fields=False, omit_defaults=True):
    """Base of every message; the `msg` field names the type."""


class ActionBase(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """Base of every game action; the `type` field names it."""


# ---- game actions (the `action` of an `act` message) ---------------------------------------------


class Play(ActionBase, tag="play"):
    """Play one card; `suit` names the new suit after a Crazy Eights 8."""

    card: Card
    suit: Card | None = None


class Draw(ActionBase, tag="draw"):
    """Draw one card from the stock."""


class PassTurn(ActionBase, tag="pass"):
    """End the turn without playing (Crazy Eights, after drawing)."""


class PassCards(ActionBase, tag="pass_cards"):
    """Hearts: choose the three cards to pass."""

    cards: Annotated[list[Card], msgspec.Meta(max_length=13)]


class Fold(ActionBase, tag="fold"):
    pass


class Check(ActionBase, tag="check"):
    pass


class Call(ActionBase, tag="call"):
    pass


class Bet(ActionBase, tag="bet"):
    """Open the betting with `amount` chips."""

    amount: Chips


class Raise(ActionBase, tag="raise"):
    """Raise the bet so that this player's total for the round is `to` chips."""

    to: Chips


Action = Play | Draw | PassTurn | PassCards | Fold | Check | Call | Bet | Raise


# ---- client -> realtime --------------------------------------------------------------------------


class Auth(Msg, tag="auth"):
    token: Annotated[str, msgspec.Meta(max_length=4096)]
    protocol: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 1  # the client's; 1 for one that never said


class Ping(Msg, tag="ping"):
    req: Req | None = None


class ListTables(Msg, tag="list_tables"):
    req: Req | None = None


class CreateTable(Msg, tag="create_table"):
    game: Annotated[str, msgspec.Meta(max_length=40)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=64)]
    options: Options = {}
    clock: Annotated[float, msgspec.Meta(ge=0, le=86400)] | None = None  # seconds per move; None = no clock
    public: bool = True
    rated: bool | None = None  # its finished games change ratings; None: as `public` (common/ratings.py)
    buy_in: Chips | None = None  # Hold'em: the creator's buy-in (default: the table minimum)
    #: Spectators see the table this late (held back on the game server): seconds, or "hand" (one
    #: whole hand behind, at cash tables).
    spectator_delay: SpectatorDelay = 0
    policy: TablePolicy | None = None  # time banks and absence (common.policy); None: the defaults
    #: Hold'em: a sit-and-go tournament (common.sitandgo) instead of a cash table
    sit_and_go: SitAndGo | None = None
    req: Req | None = None


class Join(Msg, tag="join"):
    table: TableId
    seat: Seat | None = None  # None: the first free seat
    buy_in: Chips | None = None  # Hold'em: chips to bring from the balance (default: the table minimum)
    invite: InviteCode | None = None  # a private table's invite code (from its invite link)
    req: Req | None = None


class Leave(Msg, tag="leave"):
    table: TableId
    req: Req | None = None


class Watch(Msg, tag="watch"):
    table: TableId
    invite: InviteCode | None = None  # a private table's invite code (from its invite link)
    req: Req | None = None


class Start(Msg, tag="start"):
    table: TableId
    req: Req | None = None


class AddBot(Msg, tag="add_bot"):
    table: TableId
    seat: Seat | None = None
    req: Req | None = None


class Act(Msg, tag="act"):
    table: TableId
    action: Action
    seq: Seq | None = None  # the table seq the client acted on; stale actions are refused
    req: Req | None = None


class SitOut(Msg, tag="sit_out"):
    """Sit out from the next hand (cash tables: dealt out, no blinds) or let a bot play the seat
    (Hearts, Crazy Eights) until `sit_in`."""

    table: TableId
    req: Req | None = None


class SitIn(Msg, tag="sit_in"):
    """Back from sitting out (or from a bot standing in): dealt into the next hand, or playing again."""

    table: TableId
    req: Req | None = None


class TopUp(Msg, tag="top_up"):
    """Cash tables, between hands: add `amount` chips from the balance to the seat's stack (a rebuy
    when it is empty); the stack after it must be within the table's buy-in limits."""

    table: TableId
    amount: Chips
    req: Req | None = None


class Chat(Msg, tag="chat"):
    table: TableId
    text: Annotated[str, msgspec.Meta(max_length=MAX_CHAT_CHARS)]
    req: Req | None = None

    def __post_init__(self) -> None:
        problem = text_problem(self.text)
        if problem is not None:
            raise ValueError(f"{E_BAD_TEXT}: chat text may not contain {problem}")


class Resume(Msg, tag="resume"):
    """Ask for what was missed on a table since `last_seq` (or a fresh view)."""

    table: TableId
    last_seq: Seq = 0
    invite: InviteCode | None = None  # a private table's invite code: watch it if not seated there
    req: Req | None = None


Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]  # 32 bytes as lowercase hex


class Entropy(Msg, tag="entropy"):
    """A seated player's client acknowledges the commitment of fair deal `deal` (shown in its view) with
    its own 32 random bytes, taken into that deal's deck (see common.fairness)."""

    table: TableId
    deal: Annotated[int, msgspec.Meta(ge=1, le=2**53)]
    commitment: Hex32
    value: Hex32
    req: Req | None = None


class Lobby(Msg, tag="lobby"):
    """Subscribe to (or leave) live lobby updates; answered with a full `tables` list."""

    subscribe: bool = True
    req: Req | None = None


#: Messages a client may send after `auth`, routed to a game server.
TableRequest = (ListTables | CreateTable | Join | Leave | Watch | Start | AddBot | Act | Chat | Resume
                | Entropy | SitOut | SitIn | TopUp)
ClientMessage = (Auth | Ping | Lobby | ListTables | CreateTable | Join | Leave | Watch | Start | AddBot | Act
                 | Chat | Resume | Entropy | SitOut | SitIn | TopUp)


# ---- realtime -> client --------------------------------------------------------------------------


class Welcome(Msg, tag="welcome"):
    user: int
    name: str
    protocol: int = 1  # the one this connection uses: the client's, or this server's newest if lower


class Ack(Msg, tag="ack"):
    req: int | None = None
    table: str | None = None
    seat: int | None = None


class Pong(Msg, tag="pong"):
    req: int | None = None


class Error(Msg, tag="error"):
    code: str
    text: str
    req: int | None = None
    table: str | None = None


class TableInfo(msgspec.Struct, omit_defaults=True):
    id: str
    game: str
    seats: int
    players: list[str | None]  # display names by seat; None = free seat
    status: str  # "waiting" | "playing" | "over"
    spectators: int = 0
    public: bool = True
    clock: float | None = None
    options: dict[str, Any] = {}
    creator: int = 0  # user id of the table's creator (who may add bots)
    spectator_delay: SpectatorDelay = 0  # spectators see the table this late: seconds, or "hand"
    policy: TablePolicy | None = None  # time banks and absence (common.policy)
    sit_and_go: SitAndGo | None = None  # a sit-and-go tournament's settings (common.sitandgo)


class Tables(Msg, tag="tables"):
    tables: list[TableInfo]
    req: int | None = None


class LobbyUpdate(Msg, tag="lobby_update"):
    """Pushed to lobby subscribers: tables that changed (opened, filled, started, finished) or closed."""

    tables: list[TableInfo] = []
    removed: list[str] = []


class TableStatus(Msg, tag="table_status"):
    """A table's game server went away (`available` false) or came back; resume when it is back."""

    table: str
    available: bool
    text: str = ""


class Move(Msg, tag="move"):
    """This realtime server is going away (a drain): reconnect to `url` with a fresh token and resume.
    The connection is closed (4009) right after."""

    url: str
    text: str = ""


class CashInfo(msgspec.Struct):
    """A cash table's own facts, beside the hand's view: chips in front of each seat (live during a hand,
    settled between hands), the hand number, when the next hand is dealt, and the buy-in limits."""

    table_stacks: list[int]
    hand_no: int
    next_hand_at: float | None
    min_buy_in: int
    max_buy_in: int


class View(Msg, tag="view"):
    """A seat's (or a spectator's) view of a table after event `seq`."""

    table: str
    seq: int
    view: GameView | None = None  # this viewer's view of the game (common.views); None before it starts
    cash: CashInfo | None = None  # at a cash table (a game whose series is "cash")
    sit_and_go: SitAndGoInfo | None = None  # at a sit-and-go table (common.sitandgo)
    game: str = ""
    status: str = "waiting"  # "waiting" | "playing" | "over"
    players: list[str | None] = []  # display names by seat
    bots: list[int] = []  # seats played by bots (added, or standing in for an absent player)
    away: list[int] = []  # of those, seats of people who are away (a bot plays until they are back)
    leaving: list[int] = []  # seats whose player stands up when the current hand ends (a bot checks or folds)
    seat: int | None = None  # None for spectators
    events: list[dict[str, Any]] = []  # what happened since the previous view, as seen by this viewer
    deadline: float | None = None  # wall-clock time (epoch s) when the turn clock runs out (then time banks)
    creator: int = 0  # user id of the table's creator (who may add bots)
    public: bool = True  # false: a private table (not listed; only seated players and invited people see it)
    invite: str | None = None  # a private table's invite code, in its creator's view only
    spectator_delay: SpectatorDelay = 0  # how late spectators see this table (seconds, or "hand")
    fair: FairCommit | None = None  # the current fair deal's commitment (sent while it takes contributions)
    reveal: FairReveal | None = None  # the last finished deal's revealed values (once, and in full views)
    policy: TablePolicy | None = None  # the table's policy for time and absence (common.policy)
    #: Seconds left in each seat's time bank (0 for a free seat). Once `deadline` has passed, the bank of
    #: a seat to act counts down: the clock acts for it at `deadline` + its bank.
    time_banks: list[float] = []
    #: For each seat to act whose turn clock runs: when the clock acts for it (`deadline` + its time bank).
    bank_ends: dict[int, float] = {}
    sitting_out: list[int] = []  # cash tables: seats dealt out of the next hands until they sit in
    #: Protocol 2, the mover's view only: the `req` of the `act` this view answers (its ack, folded in).
    req: int | None = None


class GameOver(Msg, tag="game_over"):
    table: str
    seq: int
    scores: list[int]
    players: list[str]
    winners: list[int]


class ChatLine(Msg, tag="chat_line"):
    table: str
    name: str
    text: str
    ts: float


class ChatHistory(Msg, tag="chat_history"):
    """A table's recent chat (oldest first), sent to a connection when it opens the table."""

    table: str
    lines: list[ChatLine] = []


ServerMessage = (Welcome | Ack | Pong | Error | Tables | LobbyUpdate | TableStatus | View | GameOver
                 | ChatLine | ChatHistory | Move)


# ---- realtime <-> game server (internal, over ZeroMQ) ----------------------------------------------


class Forward(Msg, tag="fwd"):
    """A validated client request, with who sent it. `rid` is the realtime process's own request id."""

    conn: str
    user: int
    name: str
    rid: int
    body: TableRequest
    issued: float = 0.0  # when the sender's token was issued (epoch s): refused if its user revoked since
    fold: bool = False  # the sender speaks protocol 2: an applied act's ack goes into its view (`View.req`)


class Heartbeat(Msg, tag="hb"):
    """Both directions: 'I am alive'. From a game server it also carries its load."""

    sender: str
    tables: int = 0
    boot: str = ""  # a game server's start id: when it changes, the server restarted
    healthy: bool = True  # a game server that cannot write its log says so: its tables are unavailable
    draining: bool = False  # a game server handing its tables to others takes no new ones
    batches: bool = False  # a game server that reads several messages from one ZeroMQ message (one part
    # each): a realtime process sends it what one loop pass produced as one message


class ConnClosed(Msg, tag="conn_closed"):
    """Realtime -> game server: this client connection is gone."""

    conn: str


class Deliver(Msg, tag="deliver"):
    """Game server -> realtime: send `frame` (an encoded ServerMessage) to each of `conns`.

    `rid` is set when the frame answers that Forward, so the realtime process can stop its timer; `table`
    names the table the frame is about, when it is about one (a create's ack: the table it made).

    What `decode_parts` gives; on the wire a game server sends a pass's frames as one `Delivers` (a game
    server of an older version sent each Deliver whole, its frame escaped inside; still read).
    """

    conns: list[str]
    frame: str = ""
    rid: int | None = None
    close: bool = False
    table: str | None = None


class DeliverItem(msgspec.Struct, array_like=True, omit_defaults=True):
    """One frame of a `Delivers`: where it goes, and how many bytes of the frames part it takes."""

    conns: list[str]
    size: int
    rid: int | None = None
    close: bool = False
    table: str | None = None


class Delivers(Msg, tag="delivers"):
    """Game server -> realtime: the frames of one pass for that realtime process, as a header and a body.

    This header lists each frame's connections, request id, close and table; the next part of the same
    ZeroMQ message holds the frames one after another, as bytes exactly as they go to the client. So
    the realtime process reads one small header per pass and each frame crosses as it is: neither
    escaped into a JSON string nor parsed again (`encode_delivers`, `decode_parts`).
    """

    items: list[DeliverItem]


class TablesChanged(Msg, tag="tables_changed"):
    """Game server -> every realtime process: lobby changes, fanned out to lobby subscribers."""

    tables: list[TableInfo] = []
    removed: list[str] = []


class Moved(Msg, tag="moved"):
    """Game server -> realtime: the table of Forward `rid` is served by `owner` now; send it there."""

    rid: int
    table: str
    owner: str


class TablesMoved(Msg, tag="tables_moved"):
    """Game server -> every realtime process: `owner` serves these tables now (a hand-over or a
    takeover); their players resume there."""

    tables: list[str]
    owner: str


class Revoked(Msg, tag="revoked"):
    """Game server -> every realtime process: `user`'s tokens issued before `before` are void; close their
    connections that hold one (logout, password change)."""

    user: int
    before: float


InternalMessage = (Forward | Heartbeat | ConnClosed | Deliver | Delivers | TablesChanged | Moved | TablesMoved
                   | Revoked)


# ---- encode / decode -----------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_client_decoder: msgspec.json.Decoder[ClientMessage] = msgspec.json.Decoder(ClientMessage)
_server_decoder: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)
_internal_decoder: msgspec.json.Decoder[InternalMessage] = msgspec.json.Decoder(InternalMessage)


def encode(msg: msgspec.Struct) -> bytes:
    """Serialize any message or action to JSON bytes."""
    return _encoder.encode(msg)


def encode_str(msg: msgspec.Struct) -> str:
    """Serialize to a JSON text (what SockJS sends)."""
    return _encoder.encode(msg).decode()


#: One frame for `encode_delivers`: (connections, frame, rid, close, table).
Outgoing = tuple[list[str], bytes, "int | None", bool, "str | None"]


def encode_delivers(frames: list[Outgoing]) -> tuple[bytes, bytes]:
    """The two parts of a `Delivers` on the wire: its header, then the frames one after another."""
    items = [DeliverItem(conns, len(frame), rid, close, table) for conns, frame, rid, close, table in frames]
    return _encoder.encode(Delivers(items=items)), b"".join(frame for _, frame, _, _, _ in frames)


def decode_parts(parts: list[bytes]) -> list[InternalMessage]:
    """The internal messages of the parts of one ZeroMQ message, a `Delivers` (which takes the part after
    it as its frames) opened into one `Deliver` per frame; ProtocolError on the first malformed part
    (what follows it cannot be told apart)."""
    out: list[InternalMessage] = []
    i, n = 0, len(parts)
    while i < n:
        msg = decode_internal(parts[i])
        i += 1
        if not isinstance(msg, Delivers):
            out.append(msg)
            continue
        if i == n:
            raise ProtocolError(E_BAD_FIELD, "bad internal message: a delivers header with no frames")
        body = memoryview(parts[i])
        i += 1
        if sum(item.size for item in msg.items) != len(body):
            raise ProtocolError(E_BAD_FIELD, "bad internal message: frames of another size than announced")
        at = 0
        try:
            for item in msg.items:
                frame = str(body[at:at + item.size], "utf-8")
                at += item.size
                out.append(Deliver(conns=item.conns, frame=frame, rid=item.rid, close=item.close,
                                   table=item.table))
        except UnicodeDecodeError:
            raise ProtocolError(E_BAD_FIELD, "bad internal message: a frame that is not UTF-8") from None
    return out


def _req_of(raw: bytes | str) -> int | None:
    """Best effort: the integer `req` of a frame that failed validation, to echo it back."""
    try:
        obj = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    req = obj.get("req") if isinstance(obj, dict) else None
    return req if isinstance(req, int) and not isinstance(req, bool) else None


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def too_deep(raw: bytes | str, limit: int) -> bool:
    """Whether the JSON text `raw` nests arrays and objects more than `limit` deep (strings are skipped).

    Cheap and iterative, so it runs before any recursive decoder sees the text. Text that is not JSON may
    be judged either way; its decoder refuses it anyway.

    >>> too_deep('[[1, "[[["]]', 2), too_deep('{"a": [[1]]}', 2)
    (False, True)
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for char in _NOT_BRACKET.sub(b"", _STRING.sub(b"", data)):
        depth += 1 if char in b"[{" else -1
        if depth > limit:
            return True
    return False


def decode_client(raw: bytes | str, *, max_bytes: int = MAX_FRAME_BYTES,
                  max_depth: int = MAX_JSON_DEPTH) -> ClientMessage:
    """Decode and validate one client frame; raise ProtocolError naming the problem."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise ProtocolError(E_TOO_LARGE, f"frame of {size} bytes is over the {max_bytes}-byte limit")
    if too_deep(raw, max_depth):
        raise ProtocolError(E_BAD_JSON, f"JSON nested more than {max_depth} deep")
    try:
        return _client_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _classify(str(exc), _req_of(raw)) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ProtocolError(E_BAD_JSON, f"not valid JSON: {exc}") from None


def _classify(detail: str, req: int | None) -> ProtocolError:
    if detail.startswith(f"{E_BAD_TEXT}: "):
        return ProtocolError(E_BAD_TEXT, detail.removeprefix(f"{E_BAD_TEXT}: ").split(" - at `")[0], req)
    if detail.startswith("Expected `object`"):
        return ProtocolError(E_NOT_OBJECT, "a message must be a JSON object", req)
    if detail.endswith("at `$.msg`") or "missing required field `msg`" in detail:
        return ProtocolError(E_UNKNOWN_MSG, f"unknown or missing message type ({detail})", req)
    return ProtocolError(E_BAD_FIELD, detail, req)


def decode_server(raw: bytes | str) -> ServerMessage:
    """Decode a frame sent to a client (used by clients, tests and the load generator)."""
    return _server_decoder.decode(raw)


def decode_internal(raw: bytes | str) -> InternalMessage:
    """Decode a realtime <-> game-server message; raise ProtocolError if malformed."""
    try:
        return _internal_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(E_BAD_FIELD, f"bad internal message: {exc}") from None



def to_builtins(obj: Any) -> Any:
    """Structs to plain dicts/lists (for storage and views)."""
    return msgspec.to_builtins(obj)


_to_action = tagged.converter(Action)


def action_from_builtins(obj: Any) -> Action:
    action: Action = _to_action(obj)
    return action
