"""Phones can join from the README's serve command: the server listens on every interface and
puts this machine's LAN address (not localhost) in join links; loopback-only servers say so."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from _live import Server

from weirsoe_platform.web._reach import find_reach, lan_address


def test_public_url_wins() -> None:
    reach = find_reach("0.0.0.0", 8000, "https://party.example/")
    assert reach.url == "https://party.example"
    assert reach.note is None


def test_loopback_only_says_so_with_the_fix() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        reach = find_reach(host, 8000, None)
        assert reach.url is None
        assert reach.note is not None
        assert "phones cannot join" in reach.note
        assert "weirsoe serve" in reach.note


def test_a_named_interface_is_the_join_address() -> None:
    assert find_reach("192.0.2.77", 8123, None).url == "http://192.0.2.77:8123"


def test_every_interface_uses_the_lan_address() -> None:
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    assert not ipaddress.ip_address(address).is_loopback
    assert find_reach("0.0.0.0", 8000, None) == find_reach("", 8000, None)
    assert find_reach("0.0.0.0", 8000, None).url == f"http://{address}:8000"


def test_readme_serve_gives_a_join_url_a_phone_can_open() -> None:
    """No --host: the default listens on every interface, and the join link uses the LAN
    address, which answers 200 (requests go only to loopback and this machine's own address)."""
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    srv = Server(env={"WEIRSOE_HOST": ""})  # "" = unset: the README's default
    try:
        with httpx.Client(base_url=srv.base, timeout=10) as http:
            room = http.post("/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
            expected = f"http://{address}:{srv.port}/?code={room['code']}"
            assert room["join_url"] == expected
            info = http.get(f"/api/sessions/{room['code']}").json()
            assert info["join_url"] == expected
            assert info["join_note"] is None
        page = httpx.get(room["join_url"], timeout=10)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f"players join at http://{address}:{srv.port}/" in srv.log()
    finally:
        srv.stop()


def test_loopback_server_warns_in_the_log_and_on_the_host_screen() -> None:
    srv = Server(env={"WEIRSOE_HOST": "127.0.0.1"})
    try:
        with httpx.Client(base_url=srv.base, timeout=10) as http:
            room = http.post("/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
            info = http.get(f"/api/sessions/{room['code']}").json()
        assert "127.0.0.1 only" in info["join_note"]
        assert "phones cannot join" in srv.log()
    finally:
        srv.stop()
