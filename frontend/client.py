"""Pages of the browser client: the front page and, for a logged-in user, the lobby.

Owns page routes only; the lobby's behaviour lives in `static/js/lobby.js`, which fetches a token from
`/api/token` and talks SockJS to a realtime server. The SockJS client library is installed by the setup
step into `static/vendor/` (not committed); when it is missing, the page says so instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template

from common.config import Settings
from frontend.auth import current_user

SOCKJS_FILE = Path("vendor") / "sockjs.min.js"

bp = Blueprint("client", __name__)


def sockjs_installed() -> bool:
    return current_app.static_folder is not None and (Path(current_app.static_folder) / SOCKJS_FILE).is_file()


@bp.get("/")
def index() -> str:
    if current_user() is None:
        return render_template("index.html")
    settings: Settings = current_app.config["FELT_SETTINGS"]
    return render_template("lobby.html", sockjs_installed=sockjs_installed(),
                           sockjs_file=SOCKJS_FILE.as_posix(),
                           sockjs_version=settings.sockjs_client_version)
