"""``assay serve``: the web app under gunicorn (worker processes, not Django's development
server), static files served by the app itself (whitenoise)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from assay.programme.model import Programme
from assay.web.context import PROGRAMME_VARIABLE

SECRET_VARIABLE = "ASSAY_SECRET_KEY"


def secret_key_path(programme: Programme) -> Path:
    return programme.data_dir / "web-secret-key"


def prepare(programme: Programme) -> None:
    """Before Django starts: the programme to serve and the session signing key (from the
    environment, else a file made once beside the database, readable by its owner only)."""
    os.environ[PROGRAMME_VARIABLE] = str(programme.path.resolve())
    if os.environ.get(SECRET_VARIABLE):
        return
    path = secret_key_path(programme)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    os.environ[SECRET_VARIABLE] = path.read_text().strip()


def serve(host: str, port: int, workers: int, *, ready: Any = None) -> None:
    """Run gunicorn in this process until it is stopped (Ctrl-C or SIGTERM)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from assay.web.wsgi import application

    connections.close_all()  # each worker opens its own connection after the fork

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", None)
            self.cfg.set("errorlog", "-")
            self.cfg.set("loglevel", "warning")
            self.cfg.set("timeout", 120)
            if ready is not None:
                self.cfg.set("when_ready", ready)

        def load(self) -> Any:
            return application

    Server().run()
