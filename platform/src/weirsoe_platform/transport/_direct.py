"""Writing a room's frame to its sockets without the ASGI send path.

A server-to-client WebSocket frame is not masked (RFC 6455, section 5.1), so the frame of a
message is the same bytes for every socket that gets it: it is built once, per message, and each
socket's transport writes that one object. Through ASGI every socket's copy goes through the
framework's send wrappers, the server's ``send`` coroutine and the server's own framing, and
the text is encoded to bytes again per socket.

The ASGI server offers it as a scope extension, :data:`EXTENSION`: ``{"write": write}``, where
``write(frame) -> bool`` writes a complete frame to the socket's transport at once and returns
``True``, or writes nothing and returns ``False`` whenever the socket could not take it
without waiting (handshake not done, closing or closed, the transport's buffer over its
high-water mark, or a negotiated extension such as compression that makes frames differ per
socket). The caller then sends the same message through ASGI, which waits as it always did.
``weirsoe serve`` runs uvicorn with a protocol that offers it
(:func:`weirsoe_platform.web._ws_protocol.direct_websocket_protocol`); under any other server
the extension is absent and every frame goes through ASGI.
"""

from __future__ import annotations

import struct

__all__ = ["EXTENSION", "text_frame"]

EXTENSION = "weirsoe.websocket.direct"

_FIN_TEXT = 0x81  # FIN bit and opcode 1 (text): one whole, unfragmented text message
_H16 = struct.Struct("!BBH")
_H64 = struct.Struct("!BBQ")


def text_frame(payload: bytes) -> bytes:
    """The unmasked, unfragmented text frame of ``payload`` (UTF-8), as a server sends it."""
    size = len(payload)
    if size < 126:
        head = bytes((_FIN_TEXT, size))
    elif size < 65536:
        head = _H16.pack(_FIN_TEXT, 126, size)
    else:
        head = _H64.pack(_FIN_TEXT, 127, size)
    return head + payload
