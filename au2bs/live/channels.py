"""Which datagram slot each of the project's 61 channels is sent in.

The project names its channels after the Live Link Face app's CSV header
(`LIVELINK_NAMES`): its datasets, models and written files use those names
and that column order. The datagram's slots follow Unreal's
`EARFaceBlendShape` enum instead (`RECEIVER_NAMES`), which every stream
decoder shares (Unreal, PyLiveLinkFace, think-biq/LLV, NeuroSync). The two
lists differ in two pairs at the same places: slots 15, 16 are JawLeft,
JawRight in the enum and JawRight, JawLeft in the header; slots 21, 22 are
MouthLeft, MouthRight in the enum and MouthRight, MouthLeft in the header.

The decision: the app's CSV values follow the enum, its header is what is
swapped. The CSV column headed "MouthRight" holds the lips moving to the
face's left, Unreal's MouthLeft; the same for "MouthLeft", "JawRight" and
"JawLeft". So each channel is sent by what it holds (`MEANING`), into the
receiver's slot of that name; for these files that is the slot of the same
position, and a CSV row replayed gives the datagram the app sent for it.

The evidence (README, "Which side is which"): a one-sided smile, dimple or
sneer pulls the lips towards its own side. Over the eight real takes in
../shared/data/livelinkface (14,800 frames) the difference of the columns at
slots 21 - 22 follows MouthSmileLeft - MouthSmileRight with correlation
+0.97 (dimple +0.91, sneer +0.95); read by the header's names the lips would
move away from the smiling side. In the app's own stream (LLV's recorded
`dao.gesichter`, 180 frames, slots named by the enum) the same difference
follows the smile at +0.98. Users of one importer report the app's
MouthLeft / MouthRight inverted (nmfisher/blender_livelinkface, pull request
1). For the jaw the evidence is weaker and mixed: the slot 15 - 16
difference follows the smile at +0.64 in the takes but -0.94 in LLV's 3 s of
stream; the jaw pair is taken to share the mouth pair's cause (the header's
label list swaps both the same way). `swap_lr=True` sends the other
convention, trusting the header's names for both pairs (for a model whose
training files name these channels by what they hold).
"""

from __future__ import annotations

import numpy as np

from au2bs.constants import LIVELINK_NAMES

# The app's CSV header names these pairs the other way round from Unreal's enum, in place.
HEADER_SWAPPED_PAIRS: tuple[tuple[str, str], ...] = (("JawRight", "JawLeft"), ("MouthRight", "MouthLeft"))
_OTHER_SIDE = {a: b for pair in HEADER_SWAPPED_PAIRS for a, b in (pair, pair[::-1])}

# Unreal's EARFaceBlendShape order: the 52 ARKit shapes, head yaw/pitch/roll, each eye's yaw/pitch/roll.
RECEIVER_NAMES: tuple[str, ...] = tuple(_OTHER_SIDE.get(name, name) for name in LIVELINK_NAMES)

# Project channel (the app's header name) -> the receiver's name for what it holds.
MEANING: dict[str, str] = {name: _OTHER_SIDE.get(name, name) for name in LIVELINK_NAMES}


def wire_order(swap_lr: bool = False) -> np.ndarray:
    """(61,) int: slot k of the datagram carries project channel `wire_order()[k]`.

    Args:
        swap_lr: trust the CSV header's names for JawLeft / JawRight and
            MouthLeft / MouthRight instead of what the evidence says they hold.
    """
    meaning = {name: name for name in LIVELINK_NAMES} if swap_lr else MEANING
    source = {received: LIVELINK_NAMES.index(name) for name, received in meaning.items()}
    return np.array([source[slot] for slot in RECEIVER_NAMES])


def to_receiver_order(values: np.ndarray, swap_lr: bool = False) -> np.ndarray:
    """(61,) channels in the project's order -> (61,) in the datagram's slots."""
    return np.asarray(values)[wire_order(swap_lr)]
