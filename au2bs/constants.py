"""Domain constants: channel lists, rates and artifact file names.

This is the only module that spells out channel names; everything else
imports them from here, so a reorder or a rename happens in one place.
"""

from __future__ import annotations

# OpenFace AU intensity columns, in the order OpenFace writes them (sorted by
# name). These 17 are the model inputs.
AU_NAMES: tuple[str, ...] = (
    "AU01_r", "AU02_r", "AU04_r", "AU05_r", "AU06_r", "AU07_r", "AU09_r",
    "AU10_r", "AU12_r", "AU14_r", "AU15_r", "AU17_r", "AU20_r", "AU23_r",
    "AU25_r", "AU26_r", "AU45_r",
)  # fmt: skip

# OpenFace AU presence columns (0/1); AU28 has a presence column only.
AU_PRESENCE_NAMES: tuple[str, ...] = tuple(
    sorted({name.replace("_r", "_c") for name in AU_NAMES} | {"AU28_c"})
)

# OpenFace intensities are on a 0-5 scale; datasets store them divided by this.
AU_MAX_INTENSITY = 5.0

# The 52 ARKit blendshapes in Live Link Face order (not alphabetical).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft",
    "EyeLookUpLeft", "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight",
    "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft",
    "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight",
    "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight",
    "MouthStretchLeft", "MouthStretchRight", "MouthRollLower",
    "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
    "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
    "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight",
    "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff",
    "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight",
    "TongueOut",
)  # fmt: skip

# The 9 signed head / eye rotation channels Live Link Face appends.
ROTATION_NAMES: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip

# All 61 channels of a Live Link Face take, in file order.
LIVELINK_NAMES: tuple[str, ...] = BLENDSHAPE_NAMES + ROTATION_NAMES

NUM_AUS = len(AU_NAMES)  # 17
NUM_BLENDSHAPES = len(BLENDSHAPE_NAMES)  # 52
NUM_LIVELINK = len(LIVELINK_NAMES)  # 61

# Live Link Face captures at 60 fps; every dataset lives on this clock.
LIVELINK_FPS = 60

# The app writes this spelling; many tools write "BlendShapeCount".
LIVELINK_COUNT_COLUMN = "BlendshapeCount"
LIVELINK_COUNT_SPELLINGS: tuple[str, ...] = ("BlendshapeCount", "BlendShapeCount")
LIVELINK_TIMECODE_COLUMN = "Timecode"
LIVELINK_DECIMALS = 10

# Artifact file names.
PAIRS_FILE = "pairs.csv"  # manifest of a raw corpus: one row per utterance
OPENFACE_DIR = "openface"  # layout alternative: openface/<id>.csv
LIVELINK_DIR = "livelink"  # layout alternative: livelink/<id>.csv
CORPUS_META_FILE = "corpus.json"  # what the synthetic generator knows (lags, oracle)
FRAMES_FILE = "frames.parquet"  # a built dataset's frame table
MANIFEST_FILE = "manifest.json"  # a built dataset's description
DATASET_FORMAT_VERSION = 1

SPLITS: tuple[str, ...] = ("train", "val", "test")
