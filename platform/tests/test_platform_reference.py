"""The WebSocket reference: AsyncAPI document, recorded games against it, and docs/events.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.reference import (
    REGENERATE,
    build_asyncapi,
    render_events_markdown,
    server_message_types,
)
from weirsoe_platform.web import create_app
from weirsoe_sdk import Discovery, Viewer, discover_cartridges, encode_message, event_name
from weirsoe_sdk.testing import Harness

ROOT = Path(__file__).resolve().parents[2]
EVENTS_MD = ROOT / "docs" / "events.md"
SEEDS = range(1, 6)


@pytest.fixture(scope="module")
def discovery() -> Discovery:
    found = discover_cartridges()
    assert not found.errors
    assert found.cartridges, "no cartridge discovered"
    return found


@pytest.fixture(scope="module")
def doc(discovery: Discovery) -> dict[str, Any]:
    return build_asyncapi(discovery)


@pytest.fixture(scope="module")
def rendered(discovery: Discovery) -> str:
    return render_events_markdown(discovery)


# -- a small structural JSON Schema check (jsonschema is not a dependency) --------------------
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _type_ok(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def schema_errors(
    value: Any, schema: dict[str, Any], doc: dict[str, Any], at: str = "$"
) -> list[str]:
    """What is wrong with ``value`` against ``schema`` (refs into ``doc``): types, enums,
    required and unknown keys, nested objects, arrays and maps, string lengths."""
    if "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, doc, at)
    errors = [e for s in schema.get("allOf", []) for e in schema_errors(value, s, doc, at)]
    if "anyOf" in schema and all(schema_errors(value, s, doc, at) for s in schema["anyOf"]):
        errors.append(f"{at}: {value!r} matches no anyOf branch")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    kind = schema.get("type")
    if kind is not None and not _type_ok(value, kind):
        return [*errors, f"{at}: expected {kind}, got {type(value).__name__}"]
    if isinstance(value, dict):
        errors += _object_errors(value, schema, doc, at)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], doc, f"{at}[{i}]")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{at}: shorter than {schema['minLength']}")
        if len(value) > schema.get("maxLength", len(value)):
            errors.append(f"{at}: longer than {schema['maxLength']}")
    return errors


def _object_errors(
    value: dict[str, Any], schema: dict[str, Any], doc: dict[str, Any], at: str
) -> list[str]:
    props: dict[str, Any] = schema.get("properties", {})
    errors = [f"{at}: missing required {k!r}" for k in schema.get("required", []) if k not in value]
    for key, item in value.items():
        if key in props:
            errors += schema_errors(item, props[key], doc, f"{at}.{key}")
        elif isinstance(schema.get("additionalProperties"), dict):
            errors += schema_errors(item, schema["additionalProperties"], doc, f"{at}.{key}")
        elif schema.get("additionalProperties") is False:
            errors.append(f"{at}: unknown key {key!r}")
    return errors


def payload_errors(doc: dict[str, Any], text: str) -> list[str]:
    data = json.loads(text)
    message = doc["components"]["messages"].get(data.get("type"))
    if message is None:
        return [f"type {data.get('type')!r} is not in the AsyncAPI messages"]
    return schema_errors(data, message["payload"], doc)


# -- the AsyncAPI document --------------------------------------------------------------------
def test_asyncapi_document_shape(doc: dict[str, Any], discovery: Discovery) -> None:
    assert doc["asyncapi"] == "3.0.0"
    messages = doc["components"]["messages"]
    wanted = {
        event_name(t) for types in server_message_types(discovery).values() for t in types
    } | {"ping", "sync", "action", "vote"}
    actions = {n for n, m in messages.items() if m.get("x-kind") == "action"}
    assert actions, "no cartridge action is documented"
    assert all(
        n.startswith("action.") and messages[n]["x-origin"] in discovery.cartridges for n in actions
    )
    assert set(messages) == wanted | actions
    for name, message in messages.items():
        assert message["name"] == name
        assert message["payload"], f"{name} has no payload schema"
        assert message["summary"]
        assert message["x-origin"] in {"client", "platform", *discovery.cartridges}
        assert doc["channels"]["game"]["messages"][name] == {
            "$ref": f"#/components/messages/{name}"
        }
    # Every $ref anywhere in the document resolves.
    refs = re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(doc))
    for ref in refs:
        target: Any = doc
        for part in ref.split("/"):
            assert part in target, f"dangling $ref #/{ref}"
            target = target[part]


def test_the_checker_catches_bad_payloads(doc: dict[str, Any]) -> None:
    good = '{"version":3,"ts":1.5,"deadline":null,"type":"session.player_left","player_id":"p1"}'
    assert payload_errors(doc, good) == []
    missing = '{"version":3,"ts":1.5,"type":"session.player_left","player_id":"p1"}'
    assert any("'deadline'" in e for e in payload_errors(doc, missing))
    wrong = '{"version":3,"ts":1.5,"deadline":null,"type":"session.player_left","player_id":7}'
    assert payload_errors(doc, wrong)
    assert payload_errors(doc, '{"type":"ack","id":"x","version":true}')
    assert payload_errors(doc, '{"type":"no.such.event"}')
    assert payload_errors(doc, '{"type":"action","id":"","action":{}}')


@pytest.mark.parametrize("seed", SEEDS)
def test_recorded_games_match_the_reference(
    doc: dict[str, Any], discovery: Discovery, seed: int
) -> None:
    messages = doc["components"]["messages"]
    for slug, cartridge in sorted(discovery.cartridges.items()):
        if cartridge.bot is None:
            continue
        players = max(cartridge.info.min_players, min(4, cartridge.info.max_players))
        harness = Harness(cartridge, players=players, seed=seed, chaos=0.05)
        record = harness.play()
        assert record.messages, f"{slug} seed {seed}: nothing recorded"
        for who, received in record.messages.items():
            for msg in received:
                assert msg.type in messages, f"{slug}: {msg.type} is not documented"
                errors = payload_errors(doc, msg.text)
                assert not errors, f"{slug} seed {seed}, {who} got {msg.text}: {errors}"
        table = harness.table
        for viewer in (Viewer("host"), Viewer("audience"), Viewer("player", "p1")):
            snap = harness.runtime.snapshot(table, viewer, harness.clock.now, "WXYZ")
            text = encode_message(snap, version=table.version, server_time=1.0, deadline=None)
            assert payload_errors(doc, text.decode()) == []


# -- docs/events.md ---------------------------------------------------------------------------
def test_events_md_is_up_to_date(rendered: str) -> None:
    assert EVENTS_MD.exists(), f"docs/events.md is missing; generate it with: {REGENERATE}"
    assert EVENTS_MD.read_text(encoding="utf-8") == rendered, (
        f"docs/events.md is stale; regenerate it with: {REGENERATE}"
    )


def test_rendering_is_deterministic(discovery: Discovery, rendered: str) -> None:
    assert render_events_markdown(discovery) == rendered


def test_every_server_message_is_documented(discovery: Discovery, rendered: str) -> None:
    headings = set(re.findall(r"^### (\S+)$", rendered, flags=re.MULTILINE))
    for origin, types in server_message_types(discovery).items():
        for kind in types:
            assert event_name(kind) in headings, f"{origin}: {event_name(kind)} has no section"
    assert {"ping", "sync", "action", "vote"} <= headings


def _examples(text: str) -> dict[str, str]:
    """The example payload under each ``### type`` heading."""
    found: dict[str, str] = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        name = section.split("\n", 1)[0]
        block = re.search(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
        assert block is not None, f"{name} has no example payload"
        found[name] = block.group(1)
    return found


def test_every_example_payload_is_valid(doc: dict[str, Any], rendered: str) -> None:
    examples = _examples(rendered)
    assert set(examples) == set(doc["components"]["messages"])
    for name, text in examples.items():
        if name.startswith("action."):  # a cartridge action, sent as an `action` message
            assert json.loads(text)["type"] == "action"
            payload = doc["components"]["messages"][name]["payload"]
            assert schema_errors(json.loads(text), payload, doc) == [], name
            assert json.loads(text)["action"]["type"] == name.rsplit(".", 1)[-1]
        else:
            assert json.loads(text)["type"] == name
        assert payload_errors(doc, text) == [], name


def test_the_cli_checks_and_writes(tmp_path: Path, rendered: str) -> None:
    from weirsoe_platform.reference import main

    target = tmp_path / "events.md"
    assert main(["--check", str(target)]) == 1
    assert main(["--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == rendered
    assert main(["--check", str(target)]) == 0
    target.write_text(rendered + "\nedited\n", encoding="utf-8")
    assert main(["--check", str(target)]) == 1


# -- served by the app ------------------------------------------------------------------------
def test_app_serves_both_schemas(doc: dict[str, Any]) -> None:
    with TestClient(app=create_app(PlatformSettings())) as client:
        response = client.get("/schema/asyncapi.json")
        assert response.status_code == 200
        assert response.json() == msgspec.json.decode(msgspec.json.encode(doc))
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        openapi = json.loads(response.text)
    assert openapi["openapi"].startswith("3.")
    assert "/api/sessions" in openapi["paths"]
    assert any(p.startswith("/api/sessions/") for p in openapi["paths"])


def test_every_setting_has_a_row_in_running_md() -> None:
    """docs/running.md's settings table names every operator setting with its variable."""
    table = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line
        for line in table.splitlines()
        if line.startswith("| ") and line.count("|") >= 6
    }
    missing = [name for name in PlatformSettings.__struct_fields__ if name not in rows]
    assert missing == [], f"settings without a row in docs/running.md: {missing}"
    for name in PlatformSettings.__struct_fields__:
        assert f"`WEIRSOE_{name.upper()}`" in rows[name], name
