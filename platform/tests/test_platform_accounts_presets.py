"""Presets over HTTP on SQLite and PostgreSQL: owner-only, validated, relational, and the
settings a session starts from."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _accounts_support import client_for, error, scalar, sign_in
from litestar.testing import TestClient

from weirsoe_sdk import Discovery, discover_cartridges

FAST = {"lie_seconds": 1.25, "guess_seconds": 1.5, "reveal_step_seconds": 0.2}


@pytest.fixture
def client(migrated_url: str) -> Iterator[TestClient[Any]]:
    with client_for(migrated_url) as c:
        yield c


def create(client: TestClient[Any], headers: dict[str, str], **body: Any) -> Any:
    body = {"cartridge": "weirsoe_lies", "name": "Fast", "settings": FAST, **body}
    return client.post("/api/presets", json=body, headers=headers)


def frames(ws: Any, until: str, timeout: float = 10.0) -> dict[str, Any]:
    """Read the socket until a message of type ``until`` arrives."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        message = ws.receive(timeout=end - time.monotonic())
        data = json.loads(message.get("text") or message.get("bytes"))
        if data.get("type") == until:
            return dict(data)
    raise AssertionError(f"no {until} within {timeout}s")


def test_create_read_update_delete(client: TestClient[Any], migrated_url: str) -> None:
    me = sign_in(client, "ada")
    made = create(client, me)
    assert made.status_code == 201, made.text
    preset = made.json()
    assert set(preset) == {
        "id",
        "cartridge",
        "name",
        "settings",
        "available",
        "created_at",
        "updated_at",
    }
    assert preset["available"] is True
    assert preset["cartridge"] == "weirsoe_lies"
    assert preset["settings"]["lie_seconds"] == 1.25
    assert preset["settings"]["rounds"] == 3  # defaults filled in from the schema
    pid = preset["id"]
    assert client.get(f"/api/presets/{pid}", headers=me).json() == preset
    assert client.get("/api/presets", headers=me).json() == {"presets": [preset]}

    # The settings live in the cartridge's own table, one typed column each.
    lie = asyncio.run(
        scalar(
            migrated_url, "SELECT lie_seconds FROM weirsoe_lies_presets WHERE preset_id = :p", p=pid
        )
    )
    assert lie == 1.25

    changed = client.put(
        f"/api/presets/{pid}", json={"name": "Slow", "settings": {"lie_seconds": 90}}, headers=me
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Slow"
    assert changed.json()["settings"]["lie_seconds"] == 90
    assert changed.json()["settings"]["guess_seconds"] == 20  # a PUT replaces the settings
    assert changed.json()["updated_at"] >= preset["updated_at"]
    renamed = client.put(f"/api/presets/{pid}", json={"name": "Slower"}, headers=me).json()
    assert renamed["settings"]["lie_seconds"] == 90

    assert client.delete(f"/api/presets/{pid}", headers=me).status_code == 204
    assert client.get(f"/api/presets/{pid}", headers=me).status_code == 404
    left = asyncio.run(scalar(migrated_url, "SELECT count(*) FROM weirsoe_lies_presets"))
    assert left == 0  # the cartridge's row went with its preset (ON DELETE CASCADE)


def test_the_second_cartridge_uses_its_own_table(
    client: TestClient[Any], migrated_url: str
) -> None:
    me = sign_in(client, "bea")
    made = create(client, me, cartridge="rps", name="Blitz", settings={"throw_seconds": 2.5})
    assert made.status_code == 201, made.text
    assert made.json()["settings"] == {"rounds": 3, "throw_seconds": 2.5}
    stored = asyncio.run(scalar(migrated_url, "SELECT throw_seconds FROM rps_presets"))
    assert stored == 2.5


def test_presets_need_an_account(client: TestClient[Any]) -> None:
    assert client.get("/api/presets").status_code == 401
    assert create(client, {}).status_code == 401
    assert error(client.get("/api/presets/1"))["code"] == "unauthorized"


def test_another_users_preset_is_not_found(client: TestClient[Any]) -> None:
    owner = sign_in(client, "cleo")
    pid = create(client, owner).json()["id"]
    other = sign_in(client, "dora")
    client.cookies.clear()  # dora speaks by her bearer token only
    assert client.get("/api/presets", headers=other).json() == {"presets": []}
    for method in ("get", "delete"):
        reply = client.request(method, f"/api/presets/{pid}", headers=other)
        assert reply.status_code == 404
        assert error(reply)["code"] == "preset_not_found"
    assert (
        client.put(f"/api/presets/{pid}", json={"name": "Mine"}, headers=other).status_code == 404
    )
    room = client.post("/api/sessions", json={"preset_id": pid}, headers=other)
    assert room.status_code == 404
    assert client.get(f"/api/presets/{pid}", headers=owner).json()["name"] == "Fast"  # untouched
    assert client.get("/api/presets/999999", headers=owner).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"settings": {"lie_seconds": 0}}, "lie_seconds"),
        ({"settings": {"rounds": 99}}, "rounds"),
        ({"settings": {"packs": ["no-such-pack"]}}, "packs"),
        ({"settings": {"bogus": 1}}, "bogus"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"cartridge": "not_installed"}, "cartridge"),
    ],
)
def test_bad_values_are_422_naming_the_field(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    me = sign_in(client, "eve")
    reply = create(client, me, **body)
    # A name's rule is in the request schema (OpenAPI), so breaking it is a 400.
    assert reply.status_code == (400 if field == "name" else 422), reply.text
    assert error(reply)["field"] == field
    if "settings" in body:
        pid = create(client, me).json()["id"]
        reply = client.put(f"/api/presets/{pid}", json=body, headers=me)
        assert reply.status_code == 422
        assert error(reply)["field"] == field


def test_a_preset_cannot_change_cartridge(client: TestClient[Any]) -> None:
    me = sign_in(client, "fay")
    pid = create(client, me).json()["id"]
    reply = client.put(f"/api/presets/{pid}", json={"cartridge": "rps"}, headers=me)
    # A conflict with the stored preset, not a malformed value.
    assert reply.status_code == 409
    assert error(reply)["code"] == "cartridge_fixed"
    assert error(reply)["field"] == "cartridge"


def lie_timer(client: TestClient[Any], room: dict[str, Any]) -> float:
    """Fill the room, play, and measure the lie phase: ``deadline - ts`` of its first message."""
    code, host_token = room["code"], room["host_token"]
    for name in ("Ann", "Ben"):
        assert client.post(f"/api/sessions/{code}/players", json={"name": name}).status_code == 201
    with client.websocket_connect(f"/ws/game/{code}?role=host&token={host_token}") as ws:
        frames(ws, "session.snapshot")
        played = client.post(
            f"/api/sessions/{code}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {host_token}"},
        )
        assert played.status_code == 200, played.text
        started = frames(ws, "phase.lie_started")
    return float(started["deadline"] - started["ts"])


def test_a_session_from_a_preset_runs_on_its_timers(client: TestClient[Any]) -> None:
    me = sign_in(client, "gus")
    pid = create(client, me).json()["id"]
    room = client.post("/api/sessions", json={"preset_id": pid}, headers=me)
    assert room.status_code == 201, room.text
    # Editing the preset now must not reach the room that already copied its settings.
    edit = client.put(f"/api/presets/{pid}", json={"settings": {"lie_seconds": 30}}, headers=me)
    assert edit.status_code == 200
    assert lie_timer(client, room.json()) == pytest.approx(1.25, abs=0.01)
    # A new room from the edited preset runs on the new timer.
    again = client.post("/api/sessions", json={"preset_id": pid}, headers=me)
    assert lie_timer(client, again.json()) == pytest.approx(30, abs=0.01)


def test_preset_sessions_need_the_owner_and_a_matching_cartridge(client: TestClient[Any]) -> None:
    me = sign_in(client, "hal")
    pid = create(client, me).json()["id"]
    client.cookies.clear()
    anonymous = client.post("/api/sessions", json={"preset_id": pid})
    assert anonymous.status_code == 401
    wrong = client.post("/api/sessions", json={"preset_id": pid, "cartridge": "rps"}, headers=me)
    assert wrong.status_code == 409  # a conflict with the stored preset
    assert error(wrong)["code"] == "preset_cartridge"
    assert error(wrong)["field"] == "cartridge"
    bad_override = client.post(
        "/api/sessions", json={"preset_id": pid, "settings": {"rounds": 0}}, headers=me
    )
    assert bad_override.status_code == 422
    assert error(bad_override)["field"] == "rounds"
    ok = client.post(
        "/api/sessions",
        json={"preset_id": pid, "cartridge": "weirsoe_lies", "settings": {"rounds": 1}},
        headers=me,
    )
    assert ok.status_code == 201, ok.text
    assert client.post("/api/sessions", json={}).status_code == 422


def test_a_preset_of_an_uninstalled_cartridge_is_listed_as_unavailable(migrated_url: str) -> None:
    with client_for(migrated_url) as full:
        me = sign_in(full, "ida")
        rps = create(full, me, cartridge="rps", name="Old game", settings={"rounds": 5}).json()
        lies = create(full, me).json()

    installed = discover_cartridges().cartridges
    without_rps = Discovery(cartridges={s: c for s, c in installed.items() if s != "rps"})
    # The same secret key: the token from the first server works on this one.
    with client_for(migrated_url, discovery=without_rps) as client:
        listed = client.get("/api/presets", headers=me)
        assert listed.status_code == 200, listed.text
        by_id = {p["id"]: p for p in listed.json()["presets"]}
        assert by_id[lies["id"]]["available"] is True
        gone = by_id[rps["id"]]
        assert gone["available"] is False
        assert gone["settings"] == {"rounds": 5, "throw_seconds": 10.0}  # the stored raw settings
        assert client.get(f"/api/presets/{rps['id']}", headers=me).json() == gone

        room = client.post("/api/sessions", json={"preset_id": rps["id"]}, headers=me)
        assert room.status_code == 422
        assert error(room)["code"] == "unknown_cartridge"
        edit = client.put(f"/api/presets/{rps['id']}", json={"settings": {"rounds": 1}}, headers=me)
        assert edit.status_code == 422
        assert error(edit)["field"] == "cartridge"
        assert (
            client.put(
                f"/api/presets/{rps['id']}", json={"name": "Archived"}, headers=me
            ).status_code
            == 200
        )
        assert client.delete(f"/api/presets/{rps['id']}", headers=me).status_code == 204


@pytest.mark.parametrize("preset_id", [0, -1, 2**63, 2144257286653434821705990144])
def test_out_of_range_preset_ids_are_not_found(client: TestClient[Any], preset_id: int) -> None:
    # Found by schemathesis: ids beyond SQL's 64-bit integers used to raise a 500.
    headers = sign_in(client, "ranger")
    for method in ("get", "put", "delete"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "put" else {}
        response = getattr(client, method)(f"/api/presets/{preset_id}", headers=headers, **kwargs)
        assert response.status_code == 404, (method, response.text)
    room = client.post("/api/sessions", json={"preset_id": preset_id}, headers=headers)
    assert room.status_code == 404, room.text
