"""The served OpenAPI document: valid, every error declared with the one error body, request
bodies as strict as the server, and real error responses matching what it declares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar.testing import TestClient
from openapi_spec_validator import validate

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.errors import STATUS_MEANINGS
from weirsoe_platform.web import create_app

METHODS = {"get", "put", "post", "delete", "patch"}
ERROR_REF = "#/components/schemas/ErrorBody"
NEVER_FAIL = {
    "/healthz",
    "/api/cartridges",
    "/api/auth/status",
    "/readyz",
    "/metrics",
}  # they answer 200 whatever the state


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    db = Path(tmp_path_factory.mktemp("openapi")) / "accounts.db"
    settings = PlatformSettings(database_url=f"sqlite+aiosqlite:///{db}")
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def doc(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = json.loads(response.text)
    return data


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def body_errors(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Validation errors of ``value`` against a schema of the document (refs resolved in it)."""
    wrapped = {**schema, "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(wrapped)
    return [e.message for e in validator.iter_errors(value)]


def test_openapi_spec_validator_accepts_the_document(doc: dict[str, Any]) -> None:
    validate(doc)


def test_the_bearer_scheme_is_a_valid_http_scheme(doc: dict[str, Any]) -> None:
    scheme = doc["components"]["securitySchemes"]["BearerToken"]
    assert scheme["type"] == "http"
    assert scheme["scheme"].lower() == "bearer"
    assert "name" not in scheme
    assert "in" not in scheme


def test_every_error_status_declares_the_one_error_body(doc: dict[str, Any]) -> None:
    for path, method, operation in operations(doc):
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert errors or path in NEVER_FAIL, f"{method.upper()} {path} declares no error response"
        for status, response in errors.items():
            assert int(status) in STATUS_MEANINGS, f"{method.upper()} {path}: {status}"
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, f"{method.upper()} {path} {status}: {schema}"


def test_no_content_declares_no_body(doc: dict[str, Any]) -> None:
    found = 0
    for _, _, operation in operations(doc):
        response = operation["responses"].get("204")
        if response is not None:
            found += 1
            assert "content" not in response
    assert found >= 2  # logout and deleting a preset


def test_request_bodies_forbid_unknown_fields(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for path, method, operation in operations(doc):
        body = operation.get("requestBody")
        if body is None:
            continue
        ref = body["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[-1]]
        assert schema["additionalProperties"] is False, f"{method.upper()} {path}"


def test_create_session_names_the_installed_cartridges_and_their_settings(
    doc: dict[str, Any],
) -> None:
    schema = doc["components"]["schemas"]["CreateSession"]
    assert body_errors(doc, schema, {}), "an empty body must not be schema-valid"
    assert body_errors(doc, schema, {"cartridge": "no_such_game"})
    assert body_errors(doc, schema, {"cartridge": "weirsoe_lies", "settings": {"rounds": 99}})
    assert body_errors(doc, schema, {"cartridge": "weirsoe_lies", "settings": {"packs": ["x"]}})
    assert not body_errors(doc, schema, {"cartridge": "weirsoe_lies", "settings": {"rounds": 2}})
    assert not body_errors(doc, schema, {"preset_id": 3})


def test_control_takes_settings_only_with_again(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["ControlRequest"]
    assert body_errors(doc, schema, {"action": "exit", "settings": {}})
    assert not body_errors(doc, schema, {"action": "exit"})
    assert not body_errors(doc, schema, {"action": "again", "settings": {"rounds": 2}})
    assert body_errors(doc, schema, {"action": "again", "settings": {"rounds": 99}})


def test_action_post_lists_every_cartridge_action(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["ActionPost"]
    assert not body_errors(doc, schema, {"action": {"type": "guess", "answer_id": "a1"}})
    assert not body_errors(doc, schema, {"action": {"type": "throw", "move": "rock"}})
    assert body_errors(doc, schema, {"action": {"type": "throw", "move": "lizard"}})
    assert body_errors(doc, schema, {"action": {"type": "no_such_action"}})


def _declared(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = doc["paths"][path][method]["responses"].get(str(status))
    assert response is not None, f"{method.upper()} {path} does not declare {status}"
    return response["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "url", "path", "body", "status"),
    [
        ("post", "/api/sessions", "/api/sessions", {}, 422),
        ("post", "/api/sessions", "/api/sessions", {"cartridge": "x", "extra": 1}, 400),
        ("post", "/api/sessions", "/api/sessions", {"cartridge": "nope"}, 422),
        ("post", "/api/sessions", "/api/sessions", {"preset_id": 1}, 401),
        ("get", "/api/sessions/ZZZZ", "/api/sessions/{code}", None, 404),
        ("post", "/api/sessions/ZZZZ/control", "/api/sessions/{code}/control", {}, 400),
        (
            "post",
            "/api/sessions/ZZZZ/control",
            "/api/sessions/{code}/control",
            {"action": "play"},
            401,
        ),
        ("post", "/api/auth/register", "/api/auth/register", {}, 400),
        ("post", "/api/auth/login", "/api/auth/login", {"username": "x", "password": "y"}, 401),
        ("get", "/api/auth/me", "/api/auth/me", None, 401),
        ("get", "/api/presets/1", "/api/presets/{preset_id}", None, 401),
    ],
)
def test_real_errors_match_what_is_declared(
    client: TestClient[Any],
    doc: dict[str, Any],
    method: str,
    url: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    response = client.request(method.upper(), url, json=body)
    assert response.status_code == status, response.text
    schema = _declared(doc, path, method, status)
    assert body_errors(doc, schema, response.json()) == [], response.text


def test_options_lists_every_method_of_a_path(client: TestClient[Any]) -> None:
    assert client.options("/api/presets").headers["allow"] == "GET, OPTIONS, POST"
    assert client.options("/api/presets/1").headers["allow"] == "DELETE, GET, OPTIONS, PUT"
