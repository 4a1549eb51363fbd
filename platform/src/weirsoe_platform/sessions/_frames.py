"""Wire frames: one transition's messages as one pub/sub payload (see ``transport._hub``)."""

from __future__ import annotations

import msgspec

__all__ = ["decode_frame", "encode_frame"]

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[bytes, list[str]]])


def encode_frame(messages: list[tuple[bytes, list[str]]]) -> bytes:
    """``[[data, [channel, …]], …]`` in msgpack: every message once, with its channels."""
    return _encoder.encode(messages)


def decode_frame(frame: bytes) -> list[tuple[bytes, list[str]]]:
    return _decoder.decode(frame)
