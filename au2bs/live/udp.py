"""The Live Link Face UDP datagram, field by field as Unreal's Live Link Face source reads it.

Every multi-byte field is big-endian (Unreal's network-order serializer):

    version        uint8    6 (Unreal drops a datagram whose version is not its own)
    device id      int32 length n, then n bytes of UTF-8 (the app: a 36-character UUID)
    subject        int32 length m, then m bytes of UTF-8 (the name Unreal lists)
    frame number   int32    frames since midnight at the frame rate (FFrameTime's FrameNumber)
    sub-frame      float32  the fraction of a frame, 0 <= s < 1 (FFrameTime's SubFrame)
    frame rate     int32 numerator, int32 denominator (60 / 1)
    channel count  uint8    61: Unreal accepts no other count
    values         61 float32, in the receiver's order (`au2bs.live.channels.RECEIVER_NAMES`)

The older Python sender PyLiveLinkFace writes the first fields as a 4-byte
little-endian 6 followed by "$" and a 36-character id. Those 41 bytes read as
the layout above only because the id is exactly 36 bytes ("$" is 0x24, the
low byte of the length 36); a decoder written to that description fails on
any other id. This module reads and writes the layout above.
"""

from __future__ import annotations

import math
import struct
import uuid
from dataclasses import dataclass

import numpy as np

from au2bs.constants import LIVELINK_FPS, NUM_LIVELINK

PACKET_VERSION = 6  # the Live Link Face app's current version; UE 4.25+ receivers read it
DEFAULT_PORT = 11111  # Unreal's Live Link Face source listens here
FRAMES_PER_DAY = 24 * 3600 * LIVELINK_FPS
# Unreal's receive buffer where a character is one byte (think-biq/LLV's reading of the engine's
# MAX_BLEND_SHAPE_PACKET_SIZE): a longer datagram is cut there and dropped as overflowed.
MAX_DATAGRAM_BYTES = 774
_VERSION = struct.Struct(">B")
_LENGTH = struct.Struct(">i")
# frame number, sub-frame, fps numerator, fps denominator, channel count
_FRAME_TIME = struct.Struct(">ifiiB")


@dataclass(frozen=True)
class Datagram:
    """One decoded datagram."""

    version: int
    device_id: str
    subject: str
    frame: int  # frames since midnight at fps_numerator / fps_denominator
    subframe: float  # 0 <= subframe < 1
    fps_numerator: int
    fps_denominator: int
    values: np.ndarray  # (61,) float32, in the receiver's order (channels.RECEIVER_NAMES)


def new_device_id() -> str:
    """A 36-character UUID, upper case as the app's (iOS's vendor id) reads."""
    return str(uuid.uuid4()).upper()


def encode_datagram(
    device_id: str, subject: str, frame: int, values: np.ndarray, subframe: float = 0.0
) -> bytes:
    """One frame as a datagram; `values` (61,) already in the receiver's order.

    Raises:
        ValueError: an empty subject, a sub-frame outside [0, 1), or a
            datagram longer than Unreal's receive buffer.
    """
    device, name = device_id.encode("utf-8"), subject.encode("utf-8")
    if not name:
        raise ValueError("the subject name is empty")
    if not (math.isfinite(subframe) and 0.0 <= subframe < 1.0):
        raise ValueError(f"the sub-frame is a fraction of a frame, 0 <= s < 1, got {subframe}")
    data = b"".join(
        (
            _VERSION.pack(PACKET_VERSION),
            _LENGTH.pack(len(device)),
            device,
            _LENGTH.pack(len(name)),
            name,
            _FRAME_TIME.pack(frame % FRAMES_PER_DAY, subframe, LIVELINK_FPS, 1, NUM_LIVELINK),
            np.asarray(values, dtype=">f4").reshape(NUM_LIVELINK).tobytes(),
        )
    )
    if len(data) > MAX_DATAGRAM_BYTES:
        raise ValueError(
            f"device id and subject take {len(device) + len(name)} bytes; "
            f"at most {MAX_DATAGRAM_BYTES - datagram_size('', '')} fit Unreal's receive buffer"
        )
    return data


def datagram_size(device_id: str, subject: str) -> int:
    """Bytes of a datagram with this id and subject."""
    strings = len(device_id.encode("utf-8")) + len(subject.encode("utf-8"))
    return _VERSION.size + 2 * _LENGTH.size + strings + _FRAME_TIME.size + 4 * NUM_LIVELINK


def decode_datagram(data: bytes) -> Datagram:
    """Reads a datagram as Unreal does; ValueError for one Unreal would drop."""
    reader = _Reader(data)
    (version,) = reader.take(_VERSION)
    if version != PACKET_VERSION:
        raise ValueError(f"not a Live Link Face datagram: packet version {version}, not {PACKET_VERSION}")
    device = reader.text()
    subject = reader.text()
    frame, subframe, numerator, denominator, count = reader.take(_FRAME_TIME)
    if count != NUM_LIVELINK:
        raise ValueError(f"not a Live Link Face datagram: {count} channels, not {NUM_LIVELINK}")
    values = np.frombuffer(reader.bytes(4 * count), dtype=">f4").astype(np.float32)
    if reader.at != len(data):
        raise ValueError(f"not a Live Link Face datagram: {len(data) - reader.at} bytes after the values")
    return Datagram(version, device, subject, frame, subframe, numerator, denominator, values)


class _Reader:
    """Fields in order from a datagram, with a one-line ValueError for one that runs short."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def bytes(self, count: int) -> bytes:
        if count < 0 or self.at + count > len(self.data):
            raise ValueError(
                f"not a Live Link Face datagram: {len(self.data)} bytes end inside a field at byte {self.at}"
            )
        self.at += count
        return self.data[self.at - count : self.at]

    def take(self, layout: struct.Struct) -> tuple:
        return layout.unpack(self.bytes(layout.size))

    def text(self) -> str:
        (length,) = self.take(_LENGTH)
        try:
            return self.bytes(length).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(
                f"not a Live Link Face datagram: a name at byte {self.at - length} is not UTF-8"
            ) from None
