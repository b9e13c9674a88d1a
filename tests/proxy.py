"""A TCP proxy the tests control, to put real network faults between two nodes.

Modes:

* ``forward``: bytes flow both ways.
* ``refuse``: new connections are refused (closed at once) and every open connection is reset, as
  when the far side is down.
* ``drop``: nothing is forwarded either way, on open connections and new ones, but nothing is closed
  (packets dropped: a black hole). Back to ``forward``, the old connections carry on.
* ``silent``: like ``drop``, but when it ends only *new* connections forward; the connections that
  were open, or were opened meanwhile, stay open and silent for ever (a hung middlebox, a half-dead
  NAT entry).

Every loop is bounded by a stop event and socket timeouts; :meth:`Proxy.close` ends them all.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from dataclasses import dataclass, field

__all__ = ["Proxy"]

_POLL = 0.05


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket
    silenced: bool = False  # caught in a "silent" fault: never forwards again
    bytes_forwarded: int = 0
    closed: threading.Event = field(default_factory=threading.Event)


class Proxy:
    """Listens on 127.0.0.1 (port 0) and forwards to ``target`` (host:port) as its mode says."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.mode = "forward"
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._acceptor.start()

    # -- control ------------------------------------------------------------------------------------

    def set(self, mode: str) -> None:
        if mode not in ("forward", "refuse", "drop", "silent"):
            raise ValueError(mode)
        with self._lock:
            for link in self._links:
                if mode == "silent":
                    link.silenced = True
                elif mode == "refuse":
                    self._reset(link)
            self.mode = mode

    def open_connections(self) -> int:
        with self._lock:
            return sum(not link.closed.is_set() for link in self._links)

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        with self._lock:
            links = list(self._links)
        for link in links:
            self._reset(link)
        self._listener.close()

    # -- the work -----------------------------------------------------------------------------------

    def _forwarding(self, link: _Link) -> bool:
        with self._lock:
            return self.mode == "forward" and not link.silenced

    @staticmethod
    def _reset(link: _Link) -> None:
        link.closed.set()
        for sock in (link.client, link.server):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self.mode
            if mode == "refuse":
                self._reset(_Link(client, socket.socket()))
                continue
            try:
                server = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            link = _Link(client, server, silenced=mode == "silent")
            with self._lock:
                self._links.append(link)
            threading.Thread(target=self._pump, args=(link,), name="proxy-pump", daemon=True).start()

    def _pump(self, link: _Link) -> None:
        pair = {link.client: link.server, link.server: link.client}
        try:
            while not self._stop.is_set() and not link.closed.is_set():
                if not self._forwarding(link):
                    self._stop.wait(_POLL)  # hold everything: the bytes wait in the kernel's buffers
                    continue
                readable, _, _ = select.select(list(pair), [], [], _POLL)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    pair[source].sendall(data)
                    link.bytes_forwarded += len(data)
        except OSError:
            return
        finally:
            self._reset(link)
