"""``/metrics``: off by default, token-protected when on, and the figures move with the game."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from _live import GameClient, Server
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-the-test"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict, name: str, **labels: str) -> float:
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


def test_metrics_are_off_by_default() -> None:
    srv = Server()
    try:
        assert httpx.get(srv.base + "/metrics").status_code == 404
    finally:
        srv.stop()


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_metrics_need_the_token_and_follow_a_game(backend: str) -> None:
    env = {"WEIRSOE_METRICS_TOKEN": TOKEN, "WEIRSOE_UNKNOWN_CODE_RATE": "2"}
    args: list[str] = []
    if backend == "redis":  # the rooms gauge reads statuses through the Redis store's path
        from _env import REDIS_URL, redis_unreachable

        reason = redis_unreachable()
        if reason:
            pytest.skip(reason)
        env["WEIRSOE_REDIS_PREFIX"] = f"wtest-{uuid.uuid4().hex[:10]}"
        args = ["--redis", REDIS_URL, "--with-worker"]
    srv = Server(*args, env=env)
    try:

        async def main() -> dict:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=srv.base, timeout=20) as http:
                assert (await http.get("/metrics")).status_code == 401
                wrong = {"Authorization": "Bearer nope"}
                assert (await http.get("/metrics", headers=wrong)).status_code == 401
                room = (
                    await http.post(
                        "/api/sessions",
                        json={"cartridge": "rps", "settings": {"throw_seconds": 0.3, "rounds": 2}},
                    )
                ).json()
                code, token = room["code"], room["host_token"]
                host = await GameClient(
                    f"{srv.ws_base}/ws/game/{code}?role=host&token={token}"
                ).connect()
                await host.wait_for("session.snapshot")
                for name in ("A", "B"):
                    await http.post(f"/api/sessions/{code}/players", json={"name": name})
                await http.post(
                    f"/api/sessions/{code}/control",
                    json={"action": "play"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                await host.wait_for("rps.finished")
                during = _samples((await http.get("/metrics", headers=auth)).text)
                await host.close()
            # A guesser from its own address runs into the unknown-code limit.
            transport = httpx.AsyncHTTPTransport(local_address="127.0.0.21")
            async with httpx.AsyncClient(base_url=srv.base, transport=transport) as guesser:
                statuses = [
                    (await guesser.get(f"/api/sessions/Q{i:03d}")).status_code for i in range(4)
                ]
            assert statuses == [404, 404, 429, 429]
            async with httpx.AsyncClient(base_url=srv.base, timeout=20) as http:
                after = _samples((await http.get("/metrics", headers=auth)).text)
            return {"during": during, "after": after}

        got = asyncio.run(main())
        during, after = got["during"], got["after"]
        assert _value(during, "weirsoe_sockets", role="host") == 1
        assert _value(after, "weirsoe_sockets", role="host") == 0
        assert _value(during, "weirsoe_rooms", cartridge="rps", status="over") == 1
        # join, join, play, two deadlines (at least)
        assert _value(during, "weirsoe_transitions_total", cartridge="rps") >= 5
        assert _value(during, "weirsoe_timer_lateness_seconds_count") >= 2
        assert _value(during, "weirsoe_deliveries_total") >= 5
        # weirsoe serve writes an idle socket's frames directly (transport/_direct.py)
        direct = _value(during, "weirsoe_direct_writes_total")
        assert 1 <= direct <= _value(during, "weirsoe_deliveries_total")
        assert _value(during, "weirsoe_timer_workers") == 1
        assert _value(after, "weirsoe_rate_limited_total", rule="unknown_code") == 2
        assert _value(after, "weirsoe_http_responses_total", code="4xx") >= 5
        assert _value(after, "weirsoe_http_responses_total", code="2xx") >= 4
        assert ("weirsoe_cas_conflicts_total", ()) in after
        # Redis: the room's only socket is here, so after its first commit (published: the
        # socket's version was not known yet) no commit needs publishing; embedded, none is.
        unpublished = _value(during, "weirsoe_unpublished_commits_total")
        assert unpublished >= 1 if backend == "redis" else unpublished == 0
        assert ("weirsoe_redis_errors_total", (("component", "store"),)) not in after
    finally:
        srv.stop()
