// The client's side of common/protocol.py. The server omits fields that have their default value
// (msgspec `omit_defaults`), so every frame is completed with those defaults before anyone reads it.
// A view frame's `view` (common/views.py, tagged by `game`) is null before the game starts; `cash` is
// set at a cash table. docs/schema/server-messages.json is the JSON Schema of every frame.

const TABLE_INFO = { spectators: 0, public: true, clock: null, options: {}, spectator_delay: 0 };

function tableInfo(info) {
  return { ...TABLE_INFO, ...info };
}

const DEFAULTS = {
  welcome: { protocol: 1 },
  ack: { req: null, table: null, seat: null },
  pong: { req: null },
  error: { req: null, table: null },
  tables: { req: null },
  lobby_update: { tables: [], removed: [] },
  table_status: { text: "" },
  move: { text: "" },
  view: { view: null, cash: null, game: "", status: "waiting", players: [], bots: [], seat: null, events: [],
    deadline: null, public: true, invite: null, spectator_delay: 0, req: null },
  game_over: {},
  chat_line: {},
  chat_history: { lines: [] },
};

/** A server frame with every omitted field filled in; unknown kinds are returned as they are. */
export function complete(msg) {
  if (!msg || typeof msg !== "object" || !(msg.msg in DEFAULTS)) return msg;
  const out = { ...DEFAULTS[msg.msg], ...msg };
  if (out.msg === "tables" || out.msg === "lobby_update") out.tables = (out.tables ?? []).map(tableInfo);
  return out;
}
