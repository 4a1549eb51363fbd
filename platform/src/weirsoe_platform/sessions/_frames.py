"""Wire frames: one transition's messages as one pub/sub payload (see ``transport._hub``)."""

from __future__ import annotations

import msgspec

__all__ = ["decode_frame", "encode_frame", "envelope_version", "frame_version"]

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[bytes, list[str]]])


def encode_frame(messages: list[tuple[bytes, list[str]]]) -> bytes:
    """``[[data, [channel, …]], …]`` in msgpack: every message once, with its channels."""
    return _encoder.encode(messages)


def decode_frame(frame: bytes) -> list[tuple[bytes, list[str]]]:
    return _decoder.decode(frame)


def envelope_version(data: bytes) -> int:
    """A message's session version (every enveloped message starts with it), else 0."""
    if data.startswith(b'{"version":'):
        try:
            return int(data[11 : data.index(b",", 11)])
        except ValueError:
            pass
    return 0


_ARRAY_HEADER = {0xDC: 3, 0xDD: 5}  # array 16, array 32; fixarrays (0x90-0x9F) take 1 byte
_BIN_HEADER = {0xC4: 2, 0xC5: 3, 0xC6: 5}  # bin 8, bin 16, bin 32


def frame_version(frame: bytes) -> int:
    """The version of a wire frame's first message, read off its msgpack headers without
    decoding the frame (see :func:`encode_frame`), else 0."""
    if len(frame) < 4:
        return 0
    at = 1 if 0x91 <= frame[0] <= 0x9F else _ARRAY_HEADER.get(frame[0], 0)
    if not at or frame[at] != 0x92:  # each message is a [data, channels] pair
        return 0
    header = _BIN_HEADER.get(frame[at + 1]) if at + 1 < len(frame) else None
    if header is None:
        return 0
    at += 1 + header  # the message's bytes start here
    if not frame.startswith(b'{"version":', at):
        return 0
    return envelope_version(frame[at : at + 40])
