"""moto's S3 in server mode on a free loopback port, so boto3 is exercised unchanged over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

START_TIMEOUT = 30.0


@contextmanager
def moto_server() -> Iterator[str]:
    """The server's endpoint URL while it runs.

    ``ThreadedMotoServer.start`` waits forever if the server thread dies before listening, so it
    is started from a helper thread and given a deadline: a server that cannot start fails the
    tests rather than hanging them.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT)
    if starter.is_alive():
        raise RuntimeError(f"moto's S3 server did not start within {START_TIMEOUT:.0f} s")
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def seed(bucket: str, objects: dict[str, bytes]) -> None:
    """Write objects straight into the in-process server's store, behind the HTTP API.

    Only for bulk setup: a thousand PUTs through moto's server take about ten seconds.
    """
    store = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key, data in objects.items():
        store.put_object(bucket, key, data)
