"""uvicorn's HTTP protocol with a bound on a request's head (docs/limits.md).

httptools (llhttp), uvicorn's parser whenever it is installed, buffers a request line
and headers of any size: a 64 MiB header cost the server 60 MB. The Gateway answers 431
in the surface's envelope above MAX_HEADER_BYTES (core/http.py), but only once the whole
head has arrived; this cuts the connection while it is still arriving.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from emulator.core.http import MAX_HEADER_BYTES

# Bytes that may arrive outside a body before the head is cut. Counted per read, so
# the tail of a body read with the next pipelined head counts too: far above
# MAX_HEADER_BYTES, so that only a head that nothing could serve reaches it.
HEAD_CAP = 32 * MAX_HEADER_BYTES  # 1 MiB
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 38\r\nconnection: close\r\n\r\nthe request headers are far too large\n"
)


class BoundedHttpTools(HttpToolsProtocol):
    _head = 0
    _in_body = False

    def on_headers_complete(self) -> None:
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._head = 0
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_body and not self.transport.is_closing():
            self._head += len(data)
            if self._head > HEAD_CAP:
                self.transport.write(_TOO_LARGE)
                self.transport.close()


def protocol() -> type[asyncio.Protocol]:
    """The protocol for uvicorn.Config(http=...): httptools bounded, or h11 (which bounds
    the head itself, to h11_max_incomplete_event_size) when httptools is missing."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return BoundedHttpTools if issubclass(AutoHTTPProtocol, HttpToolsProtocol) else AutoHTTPProtocol
