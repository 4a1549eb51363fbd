"""Transport: REST, the game WebSocket, fan-out and the error mapping."""

from ._errors import EXCEPTION_HANDLERS, error_body, status_for
from ._hub import MAX_BACKLOG, Hub, Subscription
from ._messages import CLIENT_MESSAGES, REPLY_MESSAGES
from ._rest import REQUEST_BODIES, ROUTES, asyncapi_document
from ._rooms import RoomWatch
from ._ws import MAX_FRAME, Presence, close_codes, game_socket

__all__ = [
    "CLIENT_MESSAGES",
    "EXCEPTION_HANDLERS",
    "MAX_BACKLOG",
    "MAX_FRAME",
    "REPLY_MESSAGES",
    "REQUEST_BODIES",
    "ROUTES",
    "Hub",
    "Presence",
    "RoomWatch",
    "Subscription",
    "asyncapi_document",
    "close_codes",
    "error_body",
    "game_socket",
    "status_for",
]
