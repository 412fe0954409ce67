"""Free TCP ports on loopback, picked at runtime so that two runs never collide."""

from __future__ import annotations

import contextlib
import socket

__all__ = ["free_port", "free_ports", "port_is_open"]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return ``count`` distinct ports that were free on ``host`` a moment ago.

    All sockets are held open until every port is picked, so the kernel cannot hand out
    the same port twice. There is an unavoidable window between closing the probe socket
    and the service binding it; services fail loudly (address in use) if it is lost.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def free_port(host: str = "127.0.0.1") -> int:
    """Return one TCP port that was free on ``host`` (binds ``host:0`` and reads the port)."""
    return free_ports(1, host)[0]


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
