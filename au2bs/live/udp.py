"""The Live Link Face UDP datagram (layout in FORMATS.md), as PyLiveLinkFace builds it."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

import numpy as np

from au2bs.constants import LIVELINK_FPS, NUM_LIVELINK

PACKET_VERSION = 6  # the one little-endian field
DEFAULT_PORT = 11111  # Unreal's Live Link Face source listens here
DEVICE_ID_BYTES = 37  # "$" and a 36-character UUID, no length prefix
FRAMES_PER_DAY = 24 * 3600 * LIVELINK_FPS
_FRAME_TIME = struct.Struct(">IIIIB")  # frame, sub-frame, fps numerator, denominator, channel count


@dataclass(frozen=True)
class Datagram:
    """One decoded datagram."""

    version: int
    device_id: str
    subject: str
    frame: int  # frames since midnight at fps_numerator / fps_denominator
    subframe: int
    fps_numerator: int
    fps_denominator: int
    values: np.ndarray  # (61,) float32, Live Link Face order


def new_device_id() -> str:
    return "$" + str(uuid.uuid4())


def encode_datagram(device_id: str, subject: str, frame: int, values: np.ndarray, subframe: int = 0) -> bytes:
    """One frame as a datagram; `values` (61,) in Live Link Face order."""
    device = device_id.encode("utf-8")
    if len(device) != DEVICE_ID_BYTES:
        raise ValueError(f"device id must be {DEVICE_ID_BYTES} bytes, got {len(device)}")
    name = subject.encode("utf-8")
    return b"".join(
        (
            struct.pack("<I", PACKET_VERSION),
            device,
            struct.pack(">i", len(name)),
            name,
            _FRAME_TIME.pack(frame % FRAMES_PER_DAY, subframe, LIVELINK_FPS, 1, NUM_LIVELINK),
            np.asarray(values, dtype=">f4").reshape(NUM_LIVELINK).tobytes(),  # big-endian float32
        )
    )


def decode_datagram(data: bytes) -> Datagram:
    """The inverse of `encode_datagram`; ValueError for a datagram of another layout."""
    try:
        (version,) = struct.unpack_from("<I", data, 0)
        at = 4 + DEVICE_ID_BYTES
        device = data[4:at].decode("utf-8")
        (length,) = struct.unpack_from(">i", data, at)
        at += 4
        subject = data[at : at + length].decode("utf-8")
        at += length
        frame, subframe, numerator, denominator, count = _FRAME_TIME.unpack_from(data, at)
        at += _FRAME_TIME.size
        values = np.frombuffer(data, dtype=">f4", count=count, offset=at).astype(np.float32)
    except (struct.error, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"not a Live Link Face datagram: {error}") from None
    if at + 4 * count != len(data) or count != NUM_LIVELINK:
        raise ValueError(f"not a Live Link Face datagram: {len(data)} bytes, {count} channels")
    return Datagram(version, device, subject, frame, subframe, numerator, denominator, values)
