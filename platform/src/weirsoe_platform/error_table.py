"""The one table of every error code and WebSocket close code a client can receive.

Codes of the platform and the SDK are listed here; each cartridge lists its own on its
registration (``Cartridge.errors``). ``python -m weirsoe_platform.error_table --write`` renders
docs/errors.md; a test fails if the source can send a code that the table lacks.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from weirsoe_sdk import Discovery, discover_cartridges

from ._doc_cli import generated_page_main
from .transport import close_codes

__all__ = [
    "CLOSE_MEANINGS",
    "DEFAULT_PATH",
    "ERRORS",
    "ErrorEntry",
    "main",
    "render_errors_markdown",
]

DEFAULT_PATH = "docs/errors.md"
# With the test-only cartridge too, as docs/events.md.
MODULE = "weirsoe_platform.error_table"
REGENERATE = f"WEIRSOE_TEST_CARTRIDGES=1 uv run python -m {MODULE} --write {DEFAULT_PATH}"

REST, WS, BOTH = ("rest",), ("ws",), ("rest", "ws")


class ErrorEntry(msgspec.Struct, frozen=True):
    """One error code: the HTTP status(es) it comes with on REST, where it can arrive, and what
    it means. ``status`` is empty for codes only the WebSocket sends."""

    code: str
    meaning: str
    status: tuple[int, ...] = ()
    where: tuple[str, ...] = BOTH


def _e(
    code: str, status: int | tuple[int, ...], where: tuple[str, ...], meaning: str
) -> ErrorEntry:
    statuses = (status,) if isinstance(status, int) else status
    return ErrorEntry(code=code, meaning=meaning, status=statuses, where=where)


ERRORS: tuple[ErrorEntry, ...] = (
    # -- requests and frames ------------------------------------------------------------------
    _e(
        "bad_request",
        400,
        REST,
        "The body or a parameter is malformed or breaks the request "
        "schema (wrong type, unknown field, value out of bounds); `field` names it.",
    ),
    _e("not_found", 404, REST, "No such path."),
    _e("method_not_allowed", 405, REST, "The path does not take that HTTP method."),
    _e("too_large", 413, REST, "The request body is too large."),
    _e("unsupported_media_type", 415, REST, "The body is not JSON."),
    _e("internal_error", 500, BOTH, "A bug on the server; the request or frame changed nothing."),
    _e("unavailable", 503, REST, "The server cannot answer right now; retry."),
    _e("bad_json", (), WS, "The frame is not JSON."),
    _e("unknown_type", (), WS, "The frame's `type` is not `ping`, `sync` or `action`."),
    _e("bad_message", (), WS, "The frame has a known `type` but wrong fields."),
    _e("too_deep", (), WS, "The frame is nested too deeply to be read."),
    _e("read_only", (), WS, "The host and the audience cannot send actions."),
    # -- rooms and credentials ----------------------------------------------------------------
    _e("room_not_found", 404, BOTH, "No room with that code (or it has closed)."),
    _e("unauthorized", 401, REST, "No token, or no sign-in, where one is needed."),
    _e(
        "forbidden",
        403,
        REST,
        "The token is not valid for this room and role (unknown, "
        "revoked by a kick, or another room's).",
    ),
    _e(
        "rate_limited",
        429,
        BOTH,
        "Too many attempts (unknown codes, joins, registrations, "
        "failed logins; on the WebSocket, more than 20 frames a second). Retry after the "
        "`Retry-After` header.",
    ),
    _e("conflict", 409, BOTH, "The room is busy with other changes; retry."),
    _e("no_free_code", 409, REST, "No free room code was found; retry."),
    _e("store_unavailable", 503, BOTH, "The state store (Redis) cannot be reached; retry."),
    # -- joining and host controls (the SDK runtime and the platform) -------------------------
    _e("bad_name", 409, REST, "The name is empty, too long or only symbols (1–20 characters)."),
    _e("name_taken", 409, REST, "Someone in the room has that name, or one that looks the same."),
    _e("room_full", 409, REST, "The room has its cartridge's maximum of players."),
    _e("room_locked", 409, REST, "The host has locked the room: no new players."),
    _e("game_started", 409, REST, "The game has started (joining), or `play` was pressed twice."),
    _e("game_over", (409, 422), BOTH, "The game is over: no joins (409) and no actions (422)."),
    _e("not_enough_players", 409, REST, "`play` needs the cartridge's minimum of players."),
    _e("not_running", 409, REST, "Only a running game can be paused."),
    _e("not_paused", 409, REST, "Only a paused game can be resumed."),
    _e("closed", 409, REST, "The room is already closed."),
    _e("bad_control", 409, REST, "Unknown host control."),
    _e("unknown_player", 409, REST, "No such player in this room (kick)."),
    _e(
        "refused",
        409,
        REST,
        "A join or host control refused by a cartridge without a code of its own.",
    ),
    _e("not_over", 409, REST, "`again` (play again in the same room) only after the game is over."),
    # -- the audience ----------------------------------------------------------------------
    _e(
        "audience_off",
        409,
        BOTH,
        "The host has turned the audience off: no audience joins (409) and no votes.",
    ),
    _e("unknown_member", 409, REST, "No such audience member in this room (kick)."),
    _e("audience_kicked", (), WS, "The host removed you from the audience: no more votes."),
    _e("not_audience", (), WS, "Only audience members vote (join with POST …/audience)."),
    _e("tally_closed", (), WS, "That vote is not open now."),
    _e("unknown_choice", (), WS, "That is not one of the vote's choices."),
    _e("vote_cap", (), WS, "No votes left in this tally."),
    # -- actions (the SDK runtime) ------------------------------------------------------------
    _e("not_a_player", 422, BOTH, "The sender has no seat in this game."),
    _e("not_started", 422, BOTH, "The game has not started."),
    _e("paused", 422, BOTH, "The game is paused."),
    _e("action_cap", 422, BOTH, "More than 100 accepted actions from one player in one phase."),
    _e(
        "bad_action",
        422,
        BOTH,
        "The action is not one the cartridge accepts, or its fields "
        "are wrong (see the cartridge's actions in /schema/asyncapi.json).",
    ),
    _e("wrong_phase", 422, BOTH, "That action is not accepted in the current phase."),
    _e("invalid_action", 422, BOTH, "An action refused by a cartridge without a code of its own."),
    # -- cartridges and settings --------------------------------------------------------------
    _e("unknown_cartridge", 422, REST, "No installed cartridge has that name."),
    _e(
        "invalid_settings",
        422,
        REST,
        "The settings break the cartridge's schema or rules; `field` names the setting.",
    ),
    _e("invalid_content", 422, REST, "A content pack is malformed."),
    _e(
        "invalid_pack",
        422,
        REST,
        "A content pack file is malformed (the SDK's pack loader, when a cartridge loads the "
        "operator's content); the message names the file, the entry, its id and the field.",
    ),
    _e("cartridge_error", 422, REST, "A cartridge is broken or missing."),
    # -- accounts and presets -----------------------------------------------------------------
    _e("bad_credentials", 401, REST, "Wrong username or password (never says which)."),
    _e("registration_closed", 403, REST, "Registration is turned off on this server."),
    _e("username_taken", 409, REST, "That username is taken."),
    _e(
        "invalid_value",
        422,
        REST,
        "A value is not acceptable (for example a room without a "
        "cartridge or a preset); `field` names it.",
    ),
    _e("preset_not_found", 404, REST, "No such preset, or it belongs to someone else."),
    _e("preset_conflict", 409, REST, "The request conflicts with the stored preset."),
    _e("too_many_presets", 409, REST, "An account holds at most 200 presets."),
    _e("cartridge_fixed", 409, REST, "A preset's cartridge cannot change."),
    _e("preset_cartridge", 409, REST, "The preset is for another cartridge than the one given."),
    _e("database_unavailable", 503, REST, "The accounts database cannot be reached; retry."),
)

CLOSE_MEANINGS: dict[int, str] = {
    1008: "Policy violation: the `Origin` is not allowed, or more than 200 frames in a row "
    "over the rate limit.",
    1009: "A frame over 64 KiB.",
    1011: "Internal error (a bug); reconnect.",
    1013: "The state store is unavailable; reconnect later.",
    4401: "No token was given for the host or player role, or the role is unknown.",
    4403: "The token is not valid for this room and role (unknown, revoked by a kick, or "
    "another room's).",
    4404: "No room with that code.",
    4408: "The host removed this player (after `session.kicked`); the token is revoked.",
    4410: "The room was closed by its host, or lost by the store (after `session.closed`).",
    4429: "Too many attempts from this address (unknown codes); wait and retry.",
}


def _anchor_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]


def _where(entry: ErrorEntry) -> str:
    return (
        {"rest": "REST", "ws": "WebSocket"}[entry.where[0]]
        if len(entry.where) == 1
        else ("REST, WebSocket")
    )


def render_errors_markdown(discovery: Discovery) -> str:
    """docs/errors.md: deterministic, byte for byte."""
    rows = [
        (f"`{e.code}`", ", ".join(map(str, e.status)) or "—", _where(e), e.meaning) for e in ERRORS
    ]
    closes = sorted((value, name) for name, value in close_codes.items())
    close_rows = [(str(v), f"`{n}`", CLOSE_MEANINGS.get(v, "")) for v, n in closes]
    lines = [
        "# Error codes",
        "",
        "<!-- Generated by weirsoe_platform.error_table; do not edit.",
        f"     Regenerate: {REGENERATE} -->",
        "",
        "Every error a client can receive, over REST or the WebSocket, carries one of these "
        'codes. Over REST the body is `{"error": {"code", "message", "field"?, '
        '"details"?}}` with the HTTP status listed; on the WebSocket it is an `error` message '
        "with `code`, `message`, and the `id` of the action and the `field` where they apply "
        "(see [events.md](events.md)). Codes never change between releases; messages may.",
        "",
        "## Platform and SDK",
        "",
        *_anchor_table(rows, ("code", "HTTP status", "sent over", "meaning")),
        "",
        "## WebSocket close codes",
        "",
        *_anchor_table(close_rows, ("code", "name", "meaning")),
        "",
    ]
    for slug in sorted(discovery.cartridges):
        cartridge = discovery.cartridges[slug]
        lines += [f"## Cartridge: {cartridge.info.title} (`{slug}`)", ""]
        if not cartridge.errors:
            lines += ["This cartridge sends only the platform's codes.", ""]
            continue
        lines += [
            "Sent in reply to an action (WebSocket `error`, or HTTP 422 on the REST fallback) "
            "or to a join (HTTP 409), besides the platform's codes.",
            "",
            *_anchor_table(
                [(f"`{c}`", m) for c, m in sorted(cartridge.errors.items())], ("code", "meaning")
            ),
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return generated_page_main(
        argv,
        prog="python -m weirsoe_platform.error_table",
        description="Render docs/errors.md.",
        render=lambda: render_errors_markdown(discover_cartridges()),
        default_path=DEFAULT_PATH,
        regenerate=REGENERATE,
    )


if __name__ == "__main__":
    raise SystemExit(main())
