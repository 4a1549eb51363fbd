"""Operator settings: what a bad value says (flags and ``WEIRSOE_*`` variables)."""

from __future__ import annotations

import pytest

from weirsoe_platform.cli import build_parser, main
from weirsoe_platform.config import settings_from_env
from weirsoe_sdk import InvalidSettings


@pytest.mark.parametrize(
    ("overrides", "environ", "says"),
    [
        # A flag whose name differs from the setting's is named as the flag is typed.
        (
            {"redis_url": "localhost:6379"},
            {},
            "redis_url: Expected `str` matching regex '^(redis|rediss|unix)://': use "
            "redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH "
            "(flag --redis or WEIRSOE_REDIS_URL)",
        ),
        # Hyphens, as argparse takes them.
        (
            {"grace_seconds": "-1"},
            {},
            "grace_seconds: Expected `float` > 0.0 (flag --grace-seconds or WEIRSOE_GRACE_SECONDS)",
        ),
        # A number from the environment is judged as a number, not called a string; a
        # setting without a flag names only its variable.
        ({}, {"WEIRSOE_JOIN_RATE": "0"}, "join_rate: Expected `int` >= 1 (WEIRSOE_JOIN_RATE)"),
        (
            {},
            {"WEIRSOE_JOIN_RATE": "many"},
            "join_rate: Expected `int`, got `str` (WEIRSOE_JOIN_RATE)",
        ),
        (
            {},
            {"WEIRSOE_LOG_FORMAT": "xml"},
            "log_format: Invalid enum value 'xml' (flag --log-format or WEIRSOE_LOG_FORMAT)",
        ),
    ],
)
def test_a_bad_setting_names_itself_its_flag_and_its_variable(
    overrides: dict[str, str], environ: dict[str, str], says: str
) -> None:
    flags = build_parser().parse_args(["serve"]).flags  # as `weirsoe serve` names them
    with pytest.raises(InvalidSettings) as info:
        settings_from_env(overrides, environ=environ, flags=flags)
    assert info.value.message == says
    assert info.value.field == says.split(":")[0]


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/redis.sock"]
)
def test_every_kind_of_redis_url_is_taken(url: str) -> None:
    assert settings_from_env({"redis_url": url}, environ={}).redis_url == url


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_url_that_is_not_redis_stops_the_cli_with_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, ``serve`` went on to redis-py, which stopped it with a traceback."""
    assert main([command, "--redis", "http://127.0.0.1:6379"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"weirsoe {command}: error: redis_url: ")
    assert "(flag --redis or WEIRSOE_REDIS_URL)" in err[0]
