"""A response's head and its body in one write.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start``, and the body with the next message: two ``write`` calls, two
syscalls and two TCP segments for every JSON answer, and two wake-ups of the client. On
loopback each write also runs the receiver's TCP path in the writer's syscall.

``HeadCoalescingTransport`` sits between uvicorn's protocol and the socket's transport.
A write that is a whole response head (``HTTP/`` ... blank line) is held until the next
write, which carries both in one call, or until the end of the current turn of the
event loop, whichever comes first: an app that sends its body straight after its head
(every JSON response, and a stream whose first chunk is ready) costs one write; one
whose body takes longer gets its head on its own, one loop turn later, as before.
Everything else passes straight through, in order.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from typing import Any

from router.limits.server import HeaderTimeoutProtocol

_HEAD_START = b"HTTP/"
_HEAD_END = b"\r\n\r\n"


def is_response_head(data: bytes) -> bool:
    """Whether ``data`` is a whole HTTP/1.x response head and nothing after it."""
    return data.startswith(_HEAD_START) and data.endswith(_HEAD_END)


class HeadCoalescingTransport(asyncio.Transport):
    """``transport`` with each response head held for its body (see the module)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.transport = transport
        self.loop = loop
        self._held: bytes | None = None
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._cancel_flush()
            self.transport.writelines((held, data))
        elif isinstance(data, bytes) and is_response_head(data):
            self._held = data
            self._flush_handle = self.loop.call_soon(self.flush)
        else:
            self.transport.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(list_of_data))

    def flush(self) -> None:
        """Write a held head now (at the end of the loop turn that held it, or before the
        transport closes or ends its writing)."""
        self._cancel_flush()
        held, self._held = self._held, None
        if held is not None and not self.transport.is_closing():
            self.transport.write(held)

    def _cancel_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()  # harmless for the handle that is running now
            self._flush_handle = None

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._cancel_flush()
        self._held = None
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + len(self._held or b"")

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()


class HeadCoalescingProtocol(HeaderTimeoutProtocol):
    """The server's HTTP protocol: uvicorn's httptools protocol with the header deadline
    (``router.limits.server``), writing through a ``HeadCoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeadCoalescingTransport(transport, self.loop))


def server_protocol(header_timeout_s: float) -> Any:
    """The value for uvicorn's ``http=`` (a ``functools.partial`` of a module-level class,
    so it pickles for worker processes)."""
    return functools.partial(HeadCoalescingProtocol, header_timeout_s=header_timeout_s)
