"""From muscle drivers to the 61 Live Link Face channels.

Each channel (or Left/Right pair) is a known nonlinear function of a
skin-filtered mix of drivers (`RULES`), scaled by the speaker's face. On top
come parts no AU can explain, all independent of the drivers: a zero-mean
left/right wobble and a multiplicative jitter (mean 1), the lip-rounding
factor (mean 1) and the additive AU-less motion of `hidden`. So the part a
perfect model could predict from the AUs is exactly known: `known`, plus the
average of the additive AU-less parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from au2bs.constants import AU_NAMES, LIVELINK_FPS, LIVELINK_NAMES, NUM_BLENDSHAPES, NUM_LIVELINK
from au2bs.synth.signals import attack_release, smooth_noise
from au2bs.synth.speakers import SpeakerProfile, lateral_pairs

_CH = {name: index for index, name in enumerate(LIVELINK_NAMES)}
_AU = {name: index for index, name in enumerate(AU_NAMES)}
_DT = 1.0 / LIVELINK_FPS


@dataclass(frozen=True)
class Rule:
    """One channel (or a Left/Right pair sharing a signal) as a function of drivers.

    value = soft_cap(gain * max(x - threshold, 0) ** power), where x is the
    weighted sum of drivers passed through the skin filter (attack_s,
    release_s). Thresholds make channels exactly 0 at rest, as ARKit does.
    """

    channels: tuple[str, ...]
    terms: tuple[tuple[str, float], ...]  # (driver = AU name, weight)
    threshold: float = 0.0
    gain: float = 1.0
    power: float = 1.0
    attack_s: float = 0.0
    release_s: float = 0.0  # 0 = follows the muscle with no delay
    rounded: bool = False  # scaled by the hidden lip-rounding factor


def _pair(stem: str) -> tuple[str, str]:
    return (stem + "Left", stem + "Right")


# The jaw path (JawOpen) has no skin filter: the dataset builder finds the
# lag by cross-correlating AU26 with JawOpen, and a one-sided filter would
# shift the peak. Slow release elsewhere is what makes history matter.
# Rule(channels, terms, threshold, gain, power, attack_s, release_s)
RULES: tuple[Rule, ...] = (
    Rule(_pair("EyeBlink"), (("AU45_r", 1.0), ("AU07_r", 0.12)), 0.04, 1.0, 1.2, 0.01, 0.03),
    Rule(_pair("EyeLookDown"), (("AU45_r", 1.0),), 0.55, 0.9, 1.0),
    Rule(_pair("EyeSquint"), (("AU07_r", 0.8), ("AU06_r", 0.35)), 0.1, 0.95, 1.0, 0.05, 0.3),
    Rule(_pair("EyeWide"), (("AU05_r", 1.0),), 0.08, 1.15, 1.0, 0.05, 0.25),
    Rule(("JawOpen",), (("AU26_r", 0.5), ("AU25_r", 0.04)), 0.05, 1.0, 1.1),
    Rule(("MouthFunnel",), (("AU26_r", 1.0),), 0.2, 0.45, 1.0, 0.03, 0.15, rounded=True),
    Rule(("MouthPucker",), (("AU26_r", 0.5), ("AU23_r", 0.3)), 0.12, 0.15, 1.0, 0.03, 0.15, rounded=True),
    Rule(_pair("MouthSmile"), (("AU12_r", 1.0),), 0.06, 1.0, 1.2, 0.08, 0.35),
    Rule(_pair("MouthFrown"), (("AU15_r", 1.0), ("AU17_r", 0.15)), 0.02, 0.45, 1.0, 0.06, 0.3),
    Rule(_pair("MouthDimple"), (("AU14_r", 1.0), ("AU12_r", 0.1)), 0.04, 0.3, 1.0, 0.06, 0.3),
    Rule(_pair("MouthStretch"), (("AU20_r", 1.0),), 0.06, 0.3, 1.0, 0.04, 0.2),
    Rule(("MouthRollLower",), (("AU23_r", 0.5), ("AU17_r", 0.3)), 0.03, 0.8, 1.0, 0.05, 0.2),
    Rule(("MouthRollUpper",), (("AU23_r", 1.0),), 0.2, 0.05, 1.0, 0.05, 0.2),
    Rule(("MouthShrugLower",), (("AU17_r", 1.0), ("AU23_r", 0.2)), 0.01, 0.45, 1.0, 0.06, 0.3),
    Rule(("MouthShrugUpper",), (("AU17_r", 0.5), ("AU10_r", 0.5)), 0.01, 0.45, 1.0, 0.06, 0.3),
    Rule(_pair("MouthPress"), (("AU23_r", 1.0),), 0.04, 0.12, 1.0, 0.03, 0.15),
    Rule(_pair("MouthLowerDown"), (("AU26_r", 1.0), ("AU25_r", 0.2)), 0.35, 1.0, 1.0, 0.02, 0.2),
    Rule(_pair("MouthUpperUp"), (("AU10_r", 1.0), ("AU09_r", 0.3)), 0.06, 0.75, 1.0, 0.04, 0.25),
    Rule(_pair("BrowDown"), (("AU04_r", 1.0),), 0.12, 0.85, 1.0, 0.08, 0.4),
    Rule(("BrowInnerUp",), (("AU01_r", 1.0),), 0.03, 0.6, 1.0, 0.06, 0.35),
    Rule(_pair("BrowOuterUp"), (("AU02_r", 1.0),), 0.2, 1.0, 1.0, 0.06, 0.35),
    Rule(_pair("CheekSquint"), (("AU06_r", 0.8), ("AU12_r", 0.3)), 0.03, 0.6, 1.0, 0.08, 0.4),
    Rule(_pair("NoseSneer"), (("AU09_r", 1.0), ("AU10_r", 0.2)), 0.02, 0.7, 1.0, 0.05, 0.3),
)

# MouthClose: lips together while the jaw hangs open (bilabials in speech),
# a product of jaw drop and lips-not-parted.
_CLOSE_GAIN, _CLOSE_THRESHOLD = 1.2, 0.04
_SOFT_CAP = 0.97  # ARKit values rarely reach 1
_PAIRS = lateral_pairs()
_WOBBLE_STD, _JITTER_STD = 0.06, 0.03  # left/right wobble, multiplicative jitter


def _mix_matrix() -> np.ndarray:
    matrix = np.zeros((len(AU_NAMES), len(RULES)))
    for column, rule in enumerate(RULES):
        for name, weight in rule.terms:
            matrix[_AU[name], column] = weight
    return matrix


_MIX = _mix_matrix()
_ATTACK = np.array([rule.attack_s for rule in RULES])
_RELEASE = np.array([rule.release_s for rule in RULES])


def known_part(drivers: np.ndarray, speaker: SpeakerProfile) -> np.ndarray:
    """(T, 61) what the drivers determine: the oracle's prediction before AU-less means.

    Args:
        drivers: (T, 17) muscle drivers at 60 fps, `AU_NAMES` order.
    """
    mixed = attack_release(drivers @ _MIX, LIVELINK_FPS, _ATTACK, _RELEASE)  # (T, rules)
    out = np.zeros((len(drivers), NUM_LIVELINK))
    for column, rule in enumerate(RULES):
        excess = np.maximum(mixed[:, column] - rule.threshold, 0.0)
        value = _SOFT_CAP * np.tanh(rule.gain * excess**rule.power / _SOFT_CAP)
        for name in rule.channels:
            out[:, _CH[name]] = value
    jaw = np.maximum(drivers[:, _AU["AU26_r"]] - _CLOSE_THRESHOLD, 0.0)
    out[:, _CH["MouthClose"]] = _CLOSE_GAIN * jaw * (1.0 - drivers[:, _AU["AU25_r"]])
    out *= speaker.bs_gain * (1.0 + speaker.bs_asym)
    return out


def rounded_channels() -> list[int]:
    return [_CH[name] for rule in RULES if rule.rounded for name in rule.channels]


def render(
    rng: np.random.Generator, known: np.ndarray, rounding: np.ndarray, hidden: np.ndarray
) -> np.ndarray:
    """(T, 61) channel values: known part x independent mean-1 factors + AU-less parts.

    Args:
        known: (T, 61) from `known_part`.
        rounding: (T,) hidden lip-rounding factor (mean 1).
        hidden: (T, 61) additive AU-less motion from `hidden.hidden_parts`.
    """
    count = len(known)
    factor = np.ones_like(known)
    for left, right in _PAIRS:
        wobble = smooth_noise(rng, count, _DT, 1.0, _WOBBLE_STD)
        factor[:, left] += wobble
        factor[:, right] -= wobble
    for channel in range(NUM_BLENDSHAPES):
        factor[:, channel] *= 1.0 + smooth_noise(rng, count, _DT, 0.25, _JITTER_STD)
    factor[:, rounded_channels()] *= rounding[:, None]
    values = known * np.maximum(factor, 0.0) + hidden
    values[:, :NUM_BLENDSHAPES] = np.clip(values[:, :NUM_BLENDSHAPES], 0.0, 1.0)
    return values
