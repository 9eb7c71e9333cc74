"""gunicorn settings for the frontend: `gunicorn -c python:frontend.gunicorn_conf ... frontend.wsgi:app`.

Metrics: gunicorn runs several worker processes; each keeps its counts in files (prometheus_client's
multiprocess mode) in a fresh directory made here, and the master serves them all on one port: the
first bound port + `metrics_port_offset` (9000 for the default 8000), on `metrics_host`. With
`metrics = false` nothing of this happens. prometheus_client is not imported before the directory is
named in the environment, so the workers (forked from the master) find it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

_state: dict[str, Any] = {}


def on_starting(server: Any) -> None:
    from common.config import load

    settings = load()
    if not settings.metrics:
        return
    ports = [address[1] for address in server.address if isinstance(address, tuple)]
    if not ports:
        return
    directory = tempfile.mkdtemp(prefix="felt-frontend-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    from common.metrics import start_multiprocess_exporter

    port = ports[0] + settings.metrics_port_offset
    _state["dir"] = directory
    try:
        _state["http"] = start_multiprocess_exporter(directory, settings.metrics_host, port)
    except OSError as exc:
        print(f"felt: frontend: metrics: cannot listen on {settings.metrics_host}:{port} ({exc}); "
              "serving without them", file=sys.stderr, flush=True)
        return
    server.log.info("metrics on http://%s:%d/metrics", settings.metrics_host, port)


def child_exit(server: Any, worker: Any) -> None:
    if "dir" in _state:
        from common.metrics import worker_exited

        worker_exited(_state["dir"], worker.pid)


def on_exit(server: Any) -> None:
    if "http" in _state:
        _state.pop("http").shutdown()
    if "dir" in _state:
        shutil.rmtree(_state.pop("dir"), ignore_errors=True)
