"""The browser shell's routes: pages, static files, cartridge UI files and the join QR code."""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from litestar.testing import TestClient

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app
from weirsoe_platform.web._pages import STATIC_DIR, safe_file
from weirsoe_sdk import discover_cartridges

PAGES = ["/", "/host", "/play/BCDF", "/watch", "/watch/BCDF", "/login", "/presets"]
HTML_PARSING = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("pages") / "weirsoe.db"
    app = create_app(PlatformSettings(database_url=f"sqlite+aiosqlite:///{db}"))
    with TestClient(app) as test_client:
        yield test_client


def assert_not_found(response: object) -> None:
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "not_found"  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_with_strict_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # No inline script anywhere: every script is a module from /static/.
    html = response.text
    assert '<script type="module" src="/static/' in html
    assert html.count("<script") == html.count('<script type="module" src="/static/')


def test_every_page_script_and_import_exists(client: TestClient) -> None:
    for js in STATIC_DIR.glob("*.js"):
        response = client.get(f"/static/{js.name}")
        assert response.status_code == 200, js.name
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert not HTML_PARSING.search(response.text), js.name


def test_static_css_and_svg(client: TestClient) -> None:
    css = client.get("/static/shell.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "prefers-reduced-motion" in css.text
    assert client.get("/static/icon.svg").headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/_pages.py",
        "/static/..%2f_pages.py",
        "/static/%2e%2e/%2e%2e/config.py",
        "/static/..%5c_pages.py",
        "/static/%2fetc%2fpasswd",
        "/static/.hidden.js",
        "/static/missing.js",
        "/static/",
    ],
)
def test_static_refuses_traversal_and_unknown_files(client: TestClient, path: str) -> None:
    assert_not_found(client.get(path))


def test_safe_file(tmp_path: Path) -> None:
    root = tmp_path / "ui"
    (root / "sub").mkdir(parents=True)
    (root / "host.js").write_text("export {}")
    (root / "sub" / "x.css").write_text("")
    (root / "notes.py").write_text("")
    (tmp_path / "secret.js").write_text("")
    os.symlink(tmp_path / "secret.js", root / "link.js")
    assert safe_file(root, "host.js") == (root / "host.js").resolve()
    assert safe_file(root, "/sub/x.css") == (root / "sub" / "x.css").resolve()
    for bad in [
        "../secret.js",
        "sub/../../secret.js",
        "link.js",
        "notes.py",
        ".",
        "",
        "sub",
        "a\x00.js",
    ]:
        assert safe_file(root, bad) is None, bad
    assert safe_file(tmp_path / "missing", "host.js") is None


def test_cartridge_ui_files(client: TestClient) -> None:
    host = client.get("/cartridges/weirsoe_lies/ui/host.js")
    assert host.status_code == 200
    assert host.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "export function mount" in host.text
    assert "content-security-policy" in host.headers
    assert client.get("/cartridges/weirsoe_lies/ui/controller.js").status_code == 200
    assert client.get("/cartridges/weirsoe_lies/ui/lies.css").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/cartridges/nope/ui/host.js",  # unknown cartridge
        "/cartridges/rps/ui/host.js",  # a cartridge without a UI
        "/cartridges/weirsoe_lies/ui/missing.js",
        "/cartridges/weirsoe_lies/ui/%2e%2e/plugin.py",
        "/cartridges/weirsoe_lies/ui/..%2fplugin.py",
        "/cartridges/weirsoe_lies/ui/..%2f..%2fweirsoe_lies%2fplugin.py",
    ],
)
def test_cartridge_ui_not_found(client: TestClient, path: str) -> None:
    assert_not_found(client.get(path))


def test_cartridge_uis_never_parse_html() -> None:
    """Every installed cartridge's UI modules (found like the platform finds them)."""
    uis = [c.ui_dir for c in discover_cartridges().cartridges.values() if c.ui_dir]
    scripts = [js for ui in uis for js in Path(ui).glob("*.js")]
    assert scripts
    for js in scripts:
        assert not HTML_PARSING.search(js.read_text()), js.name


def test_join_qr_is_svg_of_the_join_url(client: TestClient) -> None:
    created = client.post("/api/sessions", json={"cartridge": "rps"})
    assert created.status_code == 201
    room = created.json()
    response = client.get(f"/api/sessions/{room['code']}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert "content-security-policy" in response.headers
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert room["code"] in (root.findtext("{http://www.w3.org/2000/svg}title") or "")
    # Exactly the QR code of the room's join link.
    expected = io.BytesIO()
    segno.make(room["join_url"], error="m").save(
        expected,
        kind="svg",
        scale=8,
        border=2,
        dark="#111111",
        light="#ffffff",
        omitsize=True,
        title=f"Join room {room['code']}",
    )
    assert response.content == expected.getvalue()
    # Lower-case codes work like everywhere else.
    assert client.get(f"/api/sessions/{room['code'].lower()}/qr.svg").status_code == 200


def test_watch_qr_is_the_audience_pages_link(client: TestClient) -> None:
    room = client.post("/api/sessions", json={"cartridge": "rps"}).json()
    response = client.get(f"/api/sessions/{room['code']}/qr.svg?for=watch")
    assert response.status_code == 200
    expected = io.BytesIO()
    watch_url = room["join_url"].split("/?code=")[0] + f"/watch/{room['code']}"
    segno.make(watch_url, error="m").save(
        expected,
        kind="svg",
        scale=8,
        border=2,
        dark="#111111",
        light="#ffffff",
        omitsize=True,
        title=f"Watch room {room['code']}",
    )
    assert response.content == expected.getvalue()


def test_audience_joins_over_rest_any_time(client: TestClient) -> None:
    room = client.post("/api/sessions", json={"cartridge": "rps"}).json()
    joined = client.post(f"/api/sessions/{room['code']}/audience")
    assert joined.status_code == 201
    body = joined.json()
    assert set(body) == {"audience_id", "token"}
    info = client.get(f"/api/sessions/{room['code']}").json()
    assert info["audience"] == {"enabled": True, "members": 1, "watching": 0}
    missing = client.post("/api/sessions/ZZZZ/audience")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "room_not_found")


def test_join_qr_unknown_room(client: TestClient) -> None:
    response = client.get("/api/sessions/ZZZZ/qr.svg")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"


def test_audience_joins_are_rate_limited_per_address(tmp_path: Path) -> None:
    settings = PlatformSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/w.db", join_rate=2)
    with TestClient(create_app(settings)) as limited:
        code = limited.post("/api/sessions", json={"cartridge": "rps"}).json()["code"]
        codes = [limited.post(f"/api/sessions/{code}/audience").status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        again = limited.post(f"/api/sessions/{code}/audience")
        assert again.json()["error"]["code"] == "rate_limited"
        assert int(again.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/host",
        "/play/ABCD",
        "/static/shell.css",
        "/static/host.js",
        "/cartridges/weirsoe_lies/ui/host.js",
    ],
)
def test_head_etag_and_not_modified(client: TestClient, path: str) -> None:
    """Pages and files answer HEAD (no body), carry an ETag, and a repeat with If-None-Match
    gets 304 with no body; both keep the security headers."""
    got = client.get(path)
    assert got.status_code == 200
    etag = got.headers["etag"]
    assert got.headers["content-security-policy"].startswith("default-src 'self'")
    assert got.headers["x-content-type-options"] == "nosniff"
    headed = client.head(path)
    assert headed.status_code == 200
    assert headed.content == b""
    assert headed.headers["etag"] == etag
    assert headed.headers["content-type"] == got.headers["content-type"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["x-frame-options"] == "DENY"
    changed = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert changed.status_code == 200
    assert changed.content == got.content
