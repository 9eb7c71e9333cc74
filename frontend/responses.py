"""The frontend's JSON answers: one way to build them, never cached (a balance, a token, the admin's
view of the servers and a table's hands all change from one request to the next)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


def json_response(body: dict[str, Any], status: int = 200, cache: str = "no-store") -> Response:
    """`body` as JSON with `status`; `cache` is its Cache-Control ("private, no-store" for what only the
    person asking may see, so no shared cache keeps it even briefly)."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = cache
    return response
