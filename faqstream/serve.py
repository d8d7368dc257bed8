"""``faqstream serve``: the answer service on this machine, one process or several workers.

The port is bound before anything slow happens (``startup.listen``: a port in use is one line, exit
3), the settings are checked (``preflight``), and uvicorn serves the app that ``faqstream.server``
builds, wrapped in ``startup.Announced`` (start-up failures as one line; "serving on …" once it
works). Several workers need a Qdrant server: the embedded store opens in one process only.
"""

from __future__ import annotations

import argparse
import os
from typing import Any


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from faqstream import startup
    from faqstream.cli import EXIT_FAILED, EXIT_OK
    from faqstream.http_protocol import TimedHttpToolsProtocol
    from faqstream.server import build_app
    from knowledge.errors import ConfigError
    from service.api.runtime import preflight
    from service.api.settings import AppSettings

    settings = AppSettings()
    preflight(settings)  # a malformed AUTH_API_KEYS or an unpriced model: one error line, exit 3
    host = args.host or settings.service.host
    port = args.port if args.port is not None else settings.service.port
    workers = args.workers or settings.service.workers
    if workers > 1 and not settings.qdrant.url:
        raise ConfigError(
            "the embedded store can be opened by one process only, so --workers must be 1",
            hint="set QDRANT_URL to a Qdrant server to run several workers",
        )
    sock = startup.listen(host, port)  # a port in use: one line, exit 3
    url = startup.url_of(sock, host)
    options: dict[str, Any] = {
        "log_level": settings.log_level.lower(),
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
        "http": TimedHttpToolsProtocol,  # header and body read deadlines (SERVICE_HEADER/BODY_TIMEOUT_S)
    }
    if workers > 1:  # each worker builds its app (faqstream.server:app_factory) on the shared socket
        os.environ.update(SERVICE_HOST=host, SERVICE_PORT=str(sock.getsockname()[1]))
        config = uvicorn.Config("faqstream.server:app_factory", factory=True, workers=workers, **options)
        startup.quiet_uvicorn()
        supervisor = Multiprocess(config, sockets=[sock])
        supervisor.run()  # stops when a worker fails to start (each says why: Announced)
        failed = any(p.exitcode == EXIT_FAILED for p in supervisor.processes)
        return EXIT_FAILED if failed else EXIT_OK
    app = startup.Announced(build_app(settings), startup.banner(settings), url)
    config = uvicorn.Config(app, **options)
    startup.quiet_uvicorn()  # after Config, which configures uvicorn's loggers
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn's exit on a failed start-up; Announced has printed why
        if server.started:
            raise
    except KeyboardInterrupt:  # Ctrl-C, re-raised by uvicorn after a graceful shutdown (as uvicorn.run)
        pass
    return EXIT_OK if server.started else EXIT_FAILED
