"""The datagram against the public decoders' layouts, a recorded packet, and the slot of every channel.

The two third-party layouts are written here from their descriptions (Unreal's receiver and
think-biq/LLV's `gesicht.py`; PyLiveLinkFace's `decode`), not copied: they are what the project's
datagrams must satisfy, kept apart from the project's own decoder.
"""

from __future__ import annotations

import socket
import struct
import uuid
from pathlib import Path

import numpy as np
import pytest

from au2bs.constants import LIVELINK_NAMES, NUM_LIVELINK
from au2bs.formats import read_livelink
from au2bs.live import RECEIVER_NAMES, decode_datagram, encode_datagram, to_receiver_order, wire_order
from au2bs.live.channels import MEANING
from au2bs.live.udp import MAX_DATAGRAM_BYTES, datagram_size, new_device_id

FIXTURE = Path(__file__).parent / "fixtures" / "llv_dao_frame0.hex"

# Unreal's EARFaceBlendShape enum, in order, as its API reference, PyLiveLinkFace and LLV list it.
UNREAL_ENUM = """
EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft EyeWideLeft
EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight EyeWideRight
JawForward JawLeft JawRight JawOpen MouthClose MouthFunnel MouthPucker MouthLeft MouthRight
MouthSmileLeft MouthSmileRight MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight
MouthStretchLeft MouthStretchRight MouthRollLower MouthRollUpper MouthShrugLower MouthShrugUpper
MouthPressLeft MouthPressRight MouthLowerDownLeft MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight
BrowDownLeft BrowDownRight BrowInnerUp BrowOuterUpLeft BrowOuterUpRight CheekPuff CheekSquintLeft
CheekSquintRight NoseSneerLeft NoseSneerRight TongueOut
HeadYaw HeadPitch HeadRoll LeftEyeYaw LeftEyePitch LeftEyeRoll RightEyeYaw RightEyePitch RightEyeRoll
""".split()


def unreal_layout_decode(data: bytes) -> dict:
    """Unreal's reading: uint8 version; int32-length-prefixed id and subject; int32 frame, float32
    sub-frame, int32 rate numerator and denominator; uint8 count; count float32; all big-endian."""
    version = data[0]
    (id_length,) = struct.unpack_from(">i", data, 1)
    device = data[5 : 5 + id_length].decode("utf-8")
    at = 5 + id_length
    (name_length,) = struct.unpack_from(">i", data, at)
    subject = data[at + 4 : at + 4 + name_length].decode("utf-8")
    at += 4 + name_length
    frame, subframe, numerator, denominator, count = struct.unpack_from(">ifiiB", data, at)
    values = struct.unpack_from(f">{count}f", data, at + 17)
    assert at + 17 + 4 * count == len(data)
    shapes = dict(zip(UNREAL_ENUM, values, strict=True))
    return {"version": version, "device": device, "subject": subject, "frame": frame}, (
        subframe,
        numerator,
        denominator,
        shapes,
    )


def unreal_layout_encode(device: str, subject: str, frame: int, subframe: float, values) -> bytes:
    """A datagram as the app (and LLV) build it, for ids of any length."""
    parts = [struct.pack(">B", 6)]
    for text in (device, subject):
        raw = text.encode("utf-8")
        parts += [struct.pack(">i", len(raw)), raw]
    parts.append(struct.pack(">ifiiB", frame, subframe, 60, 1, len(values)))
    parts.append(struct.pack(f">{len(values)}f", *values))
    return b"".join(parts)


def pylivelinkface_layout_decode(data: bytes) -> tuple:
    """PyLiveLinkFace's reading: a little-endian int32 version in bytes 0-3, the id as bytes 4-40,
    then the subject's big-endian length and bytes, then the frame time and values as Unreal's."""
    (version,) = struct.unpack("<i", data[0:4])
    device = data[4:41].decode("utf-8")
    (name_length,) = struct.unpack(">i", data[41:45])
    subject = data[45 : 45 + name_length].decode("utf-8")
    at = 45 + name_length
    frame, subframe, fps, denominator, count = struct.unpack(">if2iB", data[at : at + 17])
    values = struct.unpack(f">{count}f", data[at + 17 :])
    return version, device, subject, frame, subframe, fps, denominator, values


def test_the_receiver_order_is_unreals_enum():
    assert RECEIVER_NAMES == tuple(UNREAL_ENUM)
    differing = [k for k, (a, b) in enumerate(zip(LIVELINK_NAMES, RECEIVER_NAMES, strict=True)) if a != b]
    assert differing == [15, 16, 21, 22]


def test_what_the_project_sends_decodes_with_unreals_layout():
    values = np.linspace(-0.5, 1.0, NUM_LIVELINK, dtype=np.float32)
    device = new_device_id()
    data = encode_datagram(device, "face1", 4_000_000, values, subframe=0.25)
    assert data[0] == 6 and data[1:5] == (36).to_bytes(4, "big") and data[5:41] == device.encode()
    head, (subframe, numerator, denominator, shapes) = unreal_layout_decode(data)
    assert head == {"version": 6, "device": device, "subject": "face1", "frame": 4_000_000}
    assert (subframe, numerator, denominator) == (0.25, 60, 1)
    assert list(shapes.values()) == values.tolist()
    assert "$" not in device and len(device) == 36


def test_what_the_project_sends_decodes_with_pylivelinkfaces_layout():
    """Its layout reads the project's 36-byte ids; the id it sees carries the length's low byte "$"."""
    values = np.linspace(0.0, 1.0, NUM_LIVELINK, dtype=np.float32)
    device = new_device_id()
    decoded = pylivelinkface_layout_decode(encode_datagram(device, "s", 12345, values, subframe=0.5))
    version, seen_id, subject, frame, subframe, fps, denominator, got = decoded
    assert (version, seen_id, subject, frame, subframe, fps, denominator) == (
        6,
        "$" + device,
        "s",
        12345,
        0.5,
        60,
        1,
    )
    assert list(got) == values.tolist()


@pytest.mark.parametrize(
    "device",
    ["iPhone-Test", "DEADC0DE-1337-1337-1337-CAFEBABE", str(uuid.UUID(int=7))],
    ids=["11", "32", "36"],
)
def test_packets_of_unreals_layout_decode_whatever_the_id_length(device):
    values = np.random.default_rng(len(device)).uniform(-0.5, 1.0, NUM_LIVELINK).astype(np.float32)
    decoded = decode_datagram(unreal_layout_encode(device, "face1", 5_184_000, 0.71875, values))
    assert (decoded.version, decoded.device_id, decoded.subject) == (6, device, "face1")
    assert (decoded.frame, decoded.subframe) == (5_184_000, 0.71875)
    assert (decoded.fps_numerator, decoded.fps_denominator) == (60, 1)
    assert np.array_equal(decoded.values, values)


def test_the_old_description_misreads_any_id_but_36_bytes():
    """The trap the project's former decoder fell into: PyLiveLinkFace's reading of an 11-byte id."""
    data = unreal_layout_encode("iPhone-Test", "face1", 1, 0.0, np.zeros(NUM_LIVELINK))
    with pytest.raises((UnicodeDecodeError, struct.error, ValueError)):
        pylivelinkface_layout_decode(data)
    assert decode_datagram(data).device_id == "iPhone-Test"


def test_a_recorded_packet_decodes():
    """The first frame of think-biq/LLV's recording `dao.gesichter` (see tests/fixtures/README.md)."""
    data = bytes.fromhex("".join(FIXTURE.read_text().split()))
    decoded = decode_datagram(data)
    assert len(data) == 320 and decoded.version == 6
    assert (decoded.device_id, decoded.subject) == ("DEADC0DE-1337-1337-1337-CAFEBABE", "LLV Default Device")
    assert decoded.frame == 5_375_735 and decoded.subframe == pytest.approx(0.121925354)
    assert (decoded.fps_numerator, decoded.fps_denominator) == (60, 1)
    _, (_, _, _, shapes) = unreal_layout_decode(data)
    assert decoded.values.tolist() == list(shapes.values())
    assert shapes["EyeBlinkLeft"] == pytest.approx(0.000177822, rel=1e-5)
    blendshapes, rotations = decoded.values[:52], decoded.values[52:]
    assert ((blendshapes >= 0) & (blendshapes <= 1)).all() and (np.abs(rotations) < 1).all()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: bytes([5]) + d[1:], "packet version 5"),
        (lambda d: d[:-3], "end inside a field"),
        (lambda d: d + b"\x00", "bytes after the values"),
        (lambda d: d[:1] + (10_000).to_bytes(4, "big") + d[5:], "end inside a field"),
        (lambda d: d[:1] + (-1).to_bytes(4, "big", signed=True) + d[5:], "end inside a field"),
        (lambda d: d[:5] + b"\xff" + d[6:], "not UTF-8"),
        (lambda d: d[:41] + bytes([52]) + d[42:], "52 channels"),
        (lambda d: b"", "end inside a field"),
    ],
    ids=["version", "short", "trailing", "long-id", "negative-id", "utf8", "count", "empty"],
)
def test_datagrams_unreal_would_drop_are_refused(change, message):
    data = unreal_layout_encode("iPhone-Test", "face1", 1, 0.5, np.zeros(NUM_LIVELINK))
    assert data[41] == NUM_LIVELINK  # after 1 + 4 + 11 + 4 + 5 + 16 bytes: the channel count
    with pytest.raises(ValueError, match=message):
        decode_datagram(change(data))


def test_the_encoder_refuses_what_unreal_cannot_read():
    zeros = np.zeros(NUM_LIVELINK)
    for subframe in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="sub-frame"):
            encode_datagram(new_device_id(), "s", 0, zeros, subframe=subframe)
    with pytest.raises(ValueError, match="empty"):
        encode_datagram(new_device_id(), "", 0, zeros)
    device = new_device_id()
    room = MAX_DATAGRAM_BYTES - datagram_size(device, "")  # bytes left for the subject
    assert len(encode_datagram(device, "x" * room, 0, zeros)) == MAX_DATAGRAM_BYTES
    with pytest.raises(ValueError, match="receive buffer"):
        encode_datagram(device, "x" * (room + 1), 0, zeros)


def _sent_through_the_sender(values: np.ndarray, swap_lr: bool) -> dict[str, float]:
    from au2bs.live.__main__ import Sender

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        Sender(f"127.0.0.1:{receiver.getsockname()[1]}", "s", swap_lr=swap_lr).send(values)
        _, (_, _, _, shapes) = unreal_layout_decode(receiver.recv(65536))
    return shapes


@pytest.mark.parametrize("side", ["JawLeft", "JawRight", "MouthLeft", "MouthRight", "JawOpen"])
def test_each_channel_arrives_in_the_slot_of_what_it_holds(side):
    """The app's column headed JawRight holds the jaw moving left (channels.MEANING): it is sent
    into Unreal's JawLeft slot. With --swap-lr the column headed JawLeft is."""
    held_by = {meaning: name for name, meaning in MEANING.items()}  # what it holds -> project channel
    for swap_lr, column in ((False, held_by[side]), (True, side)):
        values = np.zeros(NUM_LIVELINK, dtype=np.float32)
        values[LIVELINK_NAMES.index(column)] = 0.75
        shapes = _sent_through_the_sender(values, swap_lr)
        assert {name: value for name, value in shapes.items() if value} == {side: 0.75}, (swap_lr, column)
    assert held_by["JawLeft"] == "JawRight" and held_by["MouthLeft"] == "MouthRight"


def test_the_default_order_keeps_the_apps_positions_and_swap_lr_swaps_two_pairs():
    values = np.arange(NUM_LIVELINK, dtype=np.float32)
    assert np.array_equal(to_receiver_order(values), values)
    swapped = to_receiver_order(values, swap_lr=True)
    assert np.flatnonzero(swapped != values).tolist() == [15, 16, 21, 22]
    assert np.array_equal(wire_order(True)[wire_order(True)], np.arange(NUM_LIVELINK))


def test_the_real_takes_hold_the_lips_on_the_side_that_smiles(real_takes):
    """The evidence for the decision in au2bs.live.channels: read as MEANING says, the lips move
    towards the side whose corner pulls (smile, dimple, sneer); read by the header's names, away."""
    takes = [read_livelink(path).values for path in real_takes]
    assert len(takes) == 8
    frames = np.concatenate(takes)
    column = {name: frames[:, LIVELINK_NAMES.index(name)] for name in LIVELINK_NAMES}
    held = {MEANING[name]: values for name, values in column.items()}
    for pull in ("MouthSmile", "MouthDimple", "NoseSneer"):
        pulled = column[pull + "Left"] - column[pull + "Right"]
        by_meaning = np.corrcoef(held["MouthLeft"] - held["MouthRight"], pulled)[0, 1]
        by_header = np.corrcoef(column["MouthLeft"] - column["MouthRight"], pulled)[0, 1]
        assert by_meaning > 0.9 and by_header < -0.9, (pull, by_meaning, by_header)
