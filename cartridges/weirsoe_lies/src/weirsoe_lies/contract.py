"""The published contract of Weirsøe Lies besides its actions and events: its error codes."""

from __future__ import annotations

__all__ = ["ERRORS"]

ERRORS: dict[str, str] = {
    "already_guessed": "Your guess is final.",
    "bad_emoji": "Pick one of the offered reactions (the view's `emoji`).",
    "invalid_pack": "A content pack is malformed (when the operator's content is loaded).",
    "lie_empty": "Write a lie with some letters or numbers.",
    "lie_is_truth": "That is (close to) the truth; write a lie.",
    "lie_profane": "Family mode: keep the lie family-friendly.",
    "lie_too_long": "The lie is longer than the room's `max_length`.",
    "name_profane": "Family mode: pick a family-friendly name (join, HTTP 409).",
    "own_answer": "You cannot pick your own lie.",
    "reaction_cap": "No reactions left in this phase (the view's `me.reactions_left`).",
    "unknown_answer": "No answer with that id in this question.",
}
