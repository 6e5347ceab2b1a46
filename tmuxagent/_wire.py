"""Frames on a byte stream: what crosses the SSH channel to a remote host.

A frame is a kind (one byte), a length (four bytes, big-endian) and that
many bytes. The host greets with HELLO; the client sends one REQUEST
(JSON), then the verb's standard
input (STDIN frames, then STDIN_END) and SIGNAL frames for Ctrl-C; the host
answers with STDOUT and STDERR frames as the verb writes, then EXIT (JSON
with its exit code). Nothing in a frame is ever run through a shell.
"""

from __future__ import annotations

import json
import socket
import struct
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEADER = struct.Struct("!cI")
#: The largest frame either end accepts.
MAX_FRAME = 64 << 20

HELLO = b"H"  # host, first: {"code": CODE_ID} (none: no server behind the channel)
REQUEST = b"R"  # client: {"argv": [...], "code": CODE_ID}
STDIN = b"I"  # client: bytes for the verb's standard input
STDIN_END = b"i"  # client: the end of that input
SIGNAL = b"S"  # client: the user pressed Ctrl-C
STDOUT = b"O"  # host: what the verb wrote to its standard output
STDERR = b"E"  # host: ... and to its standard error
EXIT = b"X"  # host: {"code": N}: the verb is over


class ProtocolError(Exception):
    """The other end sent something that is not a frame."""


class Wire:
    """Frames over a connected socket; ``send`` may be called from any thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def send(self, kind: bytes, data: bytes = b"") -> None:
        with self._lock:
            self.sock.sendall(HEADER.pack(kind, len(data)) + data)

    def send_json(self, kind: bytes, value: Any) -> None:
        self.send(kind, json.dumps(value).encode())

    def buffered(self) -> bool:
        """Whether bytes of a next frame were read already (poll cannot tell)."""
        return bool(self._buffer)

    def read(self) -> tuple[bytes, bytes] | None:
        """The next frame as (kind, data); None when the other end closed
        between frames. ProtocolError for a frame cut short or too big."""
        while True:
            if len(self._buffer) >= HEADER.size:
                kind, size = HEADER.unpack_from(self._buffer)
                if size > MAX_FRAME:
                    raise ProtocolError(f"a frame of {size} bytes")
                end = HEADER.size + size
                if len(self._buffer) >= end:
                    data = bytes(self._buffer[HEADER.size : end])
                    del self._buffer[:end]
                    return kind, data
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                if self._buffer:
                    raise ProtocolError("the connection closed inside a frame")
                return None
            self._buffer += chunk

    @staticmethod
    def parse_json(data: bytes) -> Any:
        try:
            return json.loads(data)
        except ValueError:
            raise ProtocolError("a frame that is not JSON") from None
