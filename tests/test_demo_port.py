"""`billbot demo` checks its page's port before touching its data directory: a port another
process listens on is busy; one a stopped demo left in TIME_WAIT is free (uvicorn can bind it)."""

from __future__ import annotations

import socket

import pytest

from billbot.demo import DemoBusy, check_port_free


def _listener() -> socket.socket:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener


def test_a_listening_port_is_busy() -> None:
    with _listener() as listener, pytest.raises(DemoBusy, match="in use"):
        check_port_free("127.0.0.1", listener.getsockname()[1])


def test_a_port_left_in_time_wait_is_free() -> None:
    listener = _listener()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first, so its port waits in TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    check_port_free("127.0.0.1", port)
