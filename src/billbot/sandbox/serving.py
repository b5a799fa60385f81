"""Serve an ASGI app on loopback from a background thread (tests, benchmarks, the demo).

The stand-ins must be reached over real HTTP: slack_sdk talks urllib/aiohttp and the Codat
client and SDK talk httpx, exactly as they would to the real services.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class ServedApp:
    """A running server; `base_url` has no trailing slash."""

    host: str
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread
    _loop: asyncio.AbstractEventLoop
    _on_stop: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self, work: Coroutine[Any, Any, T], *, timeout: float = 60) -> T:
        """Run `work` on the server's event loop and wait for it: the app's async clients
        (httpx, aiohttp) belong to that loop and must not be used from another one."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        for hook in self._on_stop:
            hook()

    def __enter__(self) -> ServedApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0,
                    timeout_keep_alive: int = 5) -> ServedApp:
    """Start `app` under uvicorn in a daemon thread and return once it accepts connections.
    With no `port`, a free one; if another process takes it before uvicorn binds it (a race
    between parallel test workers), another, up to three times."""
    for attempt in range(3):
        chosen = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=chosen, log_level="warning",
                                lifespan="auto", ws="wsproto",  # the Slack stand-in: Socket Mode
                                timeout_keep_alive=timeout_keep_alive, access_log=False)
        server = uvicorn.Server(config)
        loops: list[asyncio.AbstractEventLoop] = []

        async def serve(server: uvicorn.Server = server,
                        loops: list[asyncio.AbstractEventLoop] = loops) -> None:
            loops.append(asyncio.get_running_loop())
            await server.serve()

        def run(serve: Any = serve) -> None:
            asyncio.run(serve())

        thread = threading.Thread(target=run, name=f"uvicorn:{chosen}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if server.started:
            return ServedApp(host=host, port=chosen, _server=server, _thread=thread,
                             _loop=loops[0])
        if port or thread.is_alive() or attempt == 2:
            raise RuntimeError(f"server on {host}:{chosen} did not start")
    raise AssertionError("unreachable")
