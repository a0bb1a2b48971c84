"""Latent muscle drivers: one 0-1 activation per OpenFace AU, over real time.

A driver is what a facial muscle does; OpenFace observes it (as an AU) and
so does the depth camera (as blendshapes). Speech moves the mouth drivers;
expression episodes (smiles, brow raises, frowns), blinks and each face's
resting tone move the rest.
"""

from __future__ import annotations

import numpy as np

from au2bs.constants import AU_NAMES, NUM_AUS
from au2bs.synth.signals import Range, episodes
from au2bs.synth.speakers import SpeakerProfile, VoiceProfile
from au2bs.synth.speech import SpeechMotion

_AU = {name: index for index, name in enumerate(AU_NAMES)}


def muscle_drivers(
    rng: np.random.Generator,
    t: np.ndarray,
    speaker: SpeakerProfile,
    voice: VoiceProfile,
    speech: SpeechMotion,
) -> np.ndarray:
    """(len(t), 17) drivers in `AU_NAMES` order, clipped to 0-1."""

    def episode(rate: float, amplitude: Range, attack: Range, hold: Range, release: Range) -> np.ndarray:
        return episodes(rng, t, rate, amplitude, attack, hold, release)

    smile = episode(0.16 * speaker.smile * voice.smile, (0.3, 1.0), (0.2, 0.5), (0.5, 3.0), (0.3, 0.9))
    # Brow raises mark stressed words; a high voice raises them more often.
    raised = episode(
        0.3 * speaker.brow_raise * voice.brow_raise, (0.2, 0.8), (0.1, 0.25), (0.1, 0.8), (0.2, 0.5)
    )
    lowered = episode(
        0.12 * speaker.brow_lower * voice.brow_lower, (0.2, 0.7), (0.2, 0.4), (0.5, 2.5), (0.3, 0.8)
    )
    other = speaker.other
    short = ((0.15, 0.3), (0.2, 1.0), (0.3, 0.6))  # attack, hold, release of brief expressions

    d = np.zeros((len(t), NUM_AUS))
    d[:, _AU["AU01_r"]] = raised + episode(0.05 * other, (0.2, 0.5), *short)
    d[:, _AU["AU02_r"]] = 0.85 * raised + episode(0.03 * other, (0.3, 0.7), *short)
    d[:, _AU["AU04_r"]] = lowered
    d[:, _AU["AU05_r"]] = 0.5 * raised * voice.brow_raise**0.5 + episode(0.08 * other, (0.3, 0.8), *short)
    d[:, _AU["AU06_r"]] = 0.55 * smile + episode(0.05 * other, (0.2, 0.5), *short)
    d[:, _AU["AU07_r"]] = 0.3 * smile + 0.3 * lowered + episode(0.1 * other, (0.2, 0.5), *short)
    d[:, _AU["AU09_r"]] = episode(0.12 * other, (0.3, 0.8), *short)
    d[:, _AU["AU10_r"]] = speech.upper + episode(0.04 * other, (0.3, 0.7), *short)
    d[:, _AU["AU12_r"]] = smile
    d[:, _AU["AU14_r"]] = 0.2 * smile + episode(0.1 * other, (0.3, 0.8), *short)
    d[:, _AU["AU15_r"]] = episode(0.15 * other * voice.brow_lower**0.5, (0.3, 0.8), *short)
    d[:, _AU["AU17_r"]] = episode(0.25 * other, (0.3, 0.8), *short)
    d[:, _AU["AU20_r"]] = speech.spread
    d[:, _AU["AU23_r"]] = speech.press + episode(0.08 * other, (0.2, 0.6), *short)
    d[:, _AU["AU25_r"]] = speech.lips
    d[:, _AU["AU26_r"]] = speech.jaw
    rate = speaker.blink_rate
    d[:, _AU["AU45_r"]] = np.maximum(
        episode(0.8 * rate, (0.8, 1.0), (0.04, 0.07), (0.0, 0.02), (0.08, 0.15)),
        episode(0.2 * rate, (0.25, 0.6), (0.04, 0.07), (0.0, 0.02), (0.08, 0.15)),
    )
    # Resting tone adds under everything: a furrowed face stays furrowed.
    d = speaker.rest + (1.0 - speaker.rest) * d
    return np.clip(d, 0.0, 1.0)
