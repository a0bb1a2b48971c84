"""Motion OpenFace's AUs cannot see: gaze, jaw and mouth sideways, cheek puff, tongue.

These parts are drawn independently of the muscle drivers, so no model of
the AU stream can predict them beyond their average: they set most of the
corpus's noise floor. All values are on the 60 fps Live Link clock.
"""

from __future__ import annotations

import numpy as np

from au2bs.constants import LIVELINK_FPS, LIVELINK_NAMES, NUM_LIVELINK
from au2bs.synth.signals import smooth_noise, smoothstep
from au2bs.synth.speakers import SpeakerProfile

_CH = {name: index for index, name in enumerate(LIVELINK_NAMES)}
_DT = 1.0 / LIVELINK_FPS

# Reading a prompt, the eyes mostly rest near one point; a few glances go
# far (these set the signed range of the eye rotations, about -0.3..0.5).
_GLANCE_SHARE = 0.05
_FIXATION_SPREAD = (0.025, 0.02)  # yaw, pitch std of ordinary fixations
_SACCADE_S = 0.04


def gaze(rng: np.random.Generator, count: int, centre: np.ndarray) -> np.ndarray:
    """(count, 2) yaw, pitch: fixations joined by fast saccades, plus slow drift."""
    out = np.empty((count, 2))
    t = np.arange(count) * _DT
    position = centre + rng.normal(0.0, _FIXATION_SPREAD)
    out[:] = position
    switch = rng.exponential(0.9)
    while switch < t[-1]:
        glance = rng.random() < _GLANCE_SHARE
        if glance:
            target = np.array([rng.uniform(-0.3, 0.5), rng.uniform(-0.15, 0.08)])
        else:
            target = centre + rng.normal(0.0, _FIXATION_SPREAD)
        step = smoothstep((t - switch) / _SACCADE_S)[:, None]
        out = out + step * (target - position)
        position = target
        # Glances away are brief; fixations on the prompt last longer.
        switch += rng.uniform(0.25, 0.6) if glance else rng.exponential(0.9) + 0.15
    for axis in range(2):
        out[:, axis] += smooth_noise(rng, count, _DT, 0.4, 0.008)
    return out


def hidden_parts(rng: np.random.Generator, count: int, speaker: SpeakerProfile) -> np.ndarray:
    """(count, 61) additive AU-less motion, zero on channels the AUs drive.

    Blendshape parts are non-negative and often exactly 0 (a relu of a
    smooth process); rotations are signed; head rotations stay exactly 0,
    like the calibrated real takes.
    """
    out = np.zeros((count, NUM_LIVELINK))
    yaw, pitch = gaze(rng, count, speaker.gaze_centre).T
    vergence = smooth_noise(rng, count, _DT, 1.0, 0.01)
    left_yaw, right_yaw = yaw + vergence, yaw - vergence
    out[:, _CH["LeftEyeYaw"]], out[:, _CH["RightEyeYaw"]] = left_yaw, right_yaw
    out[:, _CH["LeftEyePitch"]] = out[:, _CH["RightEyePitch"]] = pitch
    roll = smooth_noise(rng, count, _DT, 0.8, 0.008)
    out[:, _CH["LeftEyeRoll"]] = 0.12 * yaw + roll
    out[:, _CH["RightEyeRoll"]] = 0.12 * yaw - roll - 0.006
    # Looking to one side turns the left eye in and the right eye out.
    out[:, _CH["EyeLookInLeft"]] = np.maximum(1.5 * left_yaw, 0.0)
    out[:, _CH["EyeLookOutLeft"]] = np.maximum(-1.5 * left_yaw - 0.02, 0.0)
    out[:, _CH["EyeLookOutRight"]] = np.maximum(1.5 * right_yaw, 0.0)
    out[:, _CH["EyeLookInRight"]] = np.maximum(-1.5 * right_yaw - 0.02, 0.0)
    for side in ("Left", "Right"):
        out[:, _CH["EyeLookUp" + side]] = np.maximum(-2.5 * pitch + 0.08, 0.0)
        out[:, _CH["EyeLookDown" + side]] = np.maximum(2.5 * pitch - 0.12, 0.0)

    def relu_noise(tau: float, std: float, offset: float) -> np.ndarray:
        return np.maximum(smooth_noise(rng, count, _DT, tau, std) + offset, 0.0)

    out[:, _CH["JawForward"]] = relu_noise(1.5, 0.03, 0.025)
    jaw_side = smooth_noise(rng, count, _DT, 1.2, 0.03) + 0.025
    out[:, _CH["JawRight"]] = np.maximum(jaw_side, 0.0)
    out[:, _CH["JawLeft"]] = np.maximum(-jaw_side, 0.0)
    mouth_side = smooth_noise(rng, count, _DT, 0.8, 0.025) + 0.01
    out[:, _CH["MouthRight"]] = np.maximum(mouth_side, 0.0)
    out[:, _CH["MouthLeft"]] = np.maximum(-mouth_side - 0.06, 0.0)
    out[:, _CH["MouthRollLower"]] = relu_noise(1.0, 0.03, 0.02)
    out[:, _CH["MouthRollUpper"]] = relu_noise(1.0, 0.003, 0.0)
    out[:, _CH["CheekPuff"]] = relu_noise(1.0, 0.006, 0.0)
    out[:, _CH["TongueOut"]] = relu_noise(0.5, 0.0006, 0.0002)
    return out
