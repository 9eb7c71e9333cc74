"""Pages of the browser client: the front page and, for a logged-in user, the card client.

Owns page routes only. The client is one page (templates/lobby.html + static/js/): the lobby at `/`, a
table at `/table/<id>` (the same page; the script opens that table, so a link to a private table works as
an invitation and a reload comes back to the table). It fetches a token from `/api/token` and talks SockJS
to a realtime server. The SockJS client library is installed by the setup step into `static/vendor/` (not
committed); when it is missing, the page says so instead of failing. `?transport=<name>` forces one SockJS
transport (for tests and for diagnosing networks that break websockets).
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from common.config import Settings
from frontend.auth import current_user

SOCKJS_FILE = Path("vendor") / "sockjs.min.js"
TABLE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

bp = Blueprint("client", __name__)


def sockjs_installed() -> bool:
    return current_app.static_folder is not None and (Path(current_app.static_folder) / SOCKJS_FILE).is_file()


def _client_page() -> str:
    settings: Settings = current_app.config["FELT_SETTINGS"]
    return render_template("lobby.html", sockjs_installed=sockjs_installed(),
                           sockjs_file=SOCKJS_FILE.as_posix(),
                           sockjs_version=settings.sockjs_client_version)


@bp.get("/")
def index() -> str:
    if current_user() is None:
        return render_template("index.html")
    return _client_page()


@bp.get("/table/<table_id>")
def table(table_id: str) -> ResponseReturnValue:
    if not TABLE_ID.fullmatch(table_id):
        abort(404)
    if current_user() is None:
        return redirect(url_for("auth.login"))
    return _client_page()
