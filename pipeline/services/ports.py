"""Free TCP ports on loopback for the services ``eingang up`` starts.

A port is "free" when we can bind it right now; the server binds it a moment later, so another
program could take it in between. The services notice (the server exits or never gets healthy)
and ``eingang up`` says so; running it again picks new ports.
"""

from __future__ import annotations

import socket

__all__ = ["LOOPBACK", "choose_port", "free_port_pair", "free_ports", "port_is_free"]

LOOPBACK = "127.0.0.1"
_MAX_PORT = 65535


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct free ports: every socket stays bound until all are chosen, so none repeats."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port_pair(offset: int, host: str = LOOPBACK, *, avoid: frozenset[int] = frozenset()) -> int:
    """A free port ``p`` with ``p + offset`` free too, both outside ``avoid``.

    For servers that derive a second port from the first by a fixed offset somewhere we cannot
    configure (SeaweedFS's maintenance worker finds the admin gRPC port as admin port + 10000).
    """
    for _ in range(200):
        (port,) = free_ports(1, host)
        if port + offset > _MAX_PORT:
            port -= offset
        if port < 1024 or {port, port + offset} & avoid:
            continue
        if port_is_free(port, host) and port_is_free(port + offset, host):
            return port
    raise OSError(f"no two free ports {offset} apart on {host}")


def choose_port(preferred: int | None, host: str = LOOPBACK, *, avoid: frozenset[int] = frozenset()) -> int:
    """``preferred`` when it is free (people remember :4200 and :8088), else any free port."""
    if preferred is not None and preferred not in avoid and port_is_free(preferred, host):
        return preferred
    while True:
        (port,) = free_ports(1, host)
        if port not in avoid:
            return port
