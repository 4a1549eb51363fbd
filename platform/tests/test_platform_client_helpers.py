"""One home for the client address and the bearer token of a request (security._client)."""

from __future__ import annotations

import pytest
from litestar import Request
from litestar.testing import RequestFactory

from weirsoe_platform.security import bearer_token, client_address


def _request(headers: dict[str, str] | None = None) -> Request[object, object, object]:
    return RequestFactory().get("/", headers=headers or {})


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        ("Bearer", None),
        ("", None),
    ],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token(_request({"Authorization": header} if header else None)) == token


def test_client_address() -> None:
    request = _request()
    assert request.client is not None
    assert client_address(request) == request.client.host
    request.scope["client"] = None  # e.g. a server behind a Unix socket
    assert client_address(request) == "unknown"
