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

**The direct receive.** The same extension may offer ``listen``, ``pause`` and ``post``.
Through ASGI every message a client sends is queued, reading pauses until the application's
``receive`` takes it, and the socket's task wakes a turn later to handle it. With
``listen(receiver)`` the server calls ``receiver(message)`` (``str`` for text, ``bytes`` for
binary) the moment a whole message is read, in order, and the application handles it on the
spot (``transport/_ws.py``, :class:`~weirsoe_platform.transport._ws._Inbound`). Disconnects
still come through ``receive``, which the application keeps waiting on. ``pause(True)`` stops
reading the socket while handled messages wait for one that has to wait (back-pressure), and
``pause(False)`` reads on. ``post(message)`` puts ``message`` in what ``receive`` returns, to
wake the socket's task when the receiver found a reason to close. A server without them (or
without the extension) leaves every message to ``receive``. ``weirsoe serve``'s protocol also
parses the frames of a listening socket itself where that is safe (whole, unfragmented data
frames read at a frame boundary), instead of through ``websockets``' parser; what the receiver
gets is the same.

**Held writes.** A transition's messages often reach one socket two or three at a time (an
event to the room and one to the player, a phase's events), and every transport write is a
system call. While the hub fans out several messages at once it opens a :func:`holding`
scope: the server's ``write`` then keeps a socket's frames, and they go to its transport as one
write when the scope ends (:func:`release_held`), before anything else runs. A scope never
spans an await, so nothing waits for it. Anything the server itself writes to a socket in a
scope (an ASGI send) goes after that socket's held frames.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable

__all__ = ["EXTENSION", "held_by", "hold_writes", "holding", "release_held", "text_frame"]

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


class _Scope(threading.local):
    """Per thread (each runs its own event loop): how deep the open :func:`holding` scopes
    are, and the releases of the sockets that hold frames in them."""

    def __init__(self) -> None:
        self.depth = 0
        self.held: list[Callable[[], None]] = []


_scope = _Scope()


def holding() -> bool:
    """Whether a scope is open: the server's ``write`` keeps the frame (:func:`hold_writes`)."""
    return _scope.depth > 0


def hold_writes() -> None:
    """Open a scope; every call is followed by one of :func:`release_held` (``try/finally``)."""
    _scope.depth += 1


def release_held() -> None:
    """Close a scope; the outermost writes every socket's held frames."""
    scope = _scope
    scope.depth -= 1
    if scope.depth or not scope.held:
        return
    held, scope.held = scope.held, []
    for release in held:
        release()


def held_by(release: Callable[[], None]) -> None:
    """A socket's first frame in the open scope: ``release`` writes its frames at the end."""
    _scope.held.append(release)
