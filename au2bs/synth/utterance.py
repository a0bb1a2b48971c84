"""Utterances in memory: a synthetic reading simulated, the corpus's stream of them.

`simulate` yields the corpus's utterances in order (synthetic, or cut from
real takes by `targets.py`); `aligned` puts one on the Live Link clock with
the true alignment, for experiments that need (x, y) pairs without going
through files and lag estimation. The `Utterance` record itself, shared with
`targets.py`, lives in `record.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from au2bs.constants import AU_MAX_INTENSITY, LIVELINK_FPS, NUM_AUS
from au2bs.synth.config import SynthConfig
from au2bs.synth.drivers import muscle_drivers
from au2bs.synth.face import known_part, render
from au2bs.synth.hidden import hidden_parts
from au2bs.synth.observe import observe
from au2bs.synth.record import (
    OUTLIER_ELIGIBLE,
    OUTLIER_MIN_FRAMES,
    READING_SEEDS,
    SCRIPT_SEEDS,
    SESSION_SEEDS,
    SPEAKER_SEEDS,
    Utterance,
    rng_for,
    utterance_id,
)
from au2bs.synth.speakers import VOICES, SpeakerProfile, draw_speaker
from au2bs.synth.speech import Script, draw_script, script_quantiles, speech_motion, time_script
from au2bs.synth.targets import real_target_utterances

FINE = 4  # driver grid: 4 samples per Live Link frame (240 Hz), so OpenFace's
# ~58 fps samples interpolate smooth drivers, not 60 fps steps
_VOICE_CODE = {name: code for code, name in enumerate(VOICES)}


def session_start(seed: int, speaker: int) -> float:
    """Time of day (seconds) a speaker's recording session began: 9:00-17:00."""
    return float(rng_for(seed, SESSION_SEEDS, speaker).uniform(9 * 3600, 17 * 3600))


def synthetic_utterance(
    config: SynthConfig, speaker_index: int, profile: SpeakerProfile, voice: str, item: int, script: Script
) -> Utterance:
    """Simulates one reading of `script` by one speaker in one voice."""
    rng = rng_for(config.seed, READING_SEEDS, speaker_index, _VOICE_CODE[voice], item)
    manner = VOICES[voice]
    lag = rng.uniform(*config.lag_range_s)
    timing = time_script(rng, script, profile.tempo * manner.tempo)
    speech_start = lag + rng.uniform(0.15, 0.45)
    tail = rng.uniform(0.3, 0.7)
    limit = config.max_frames / LIVELINK_FPS
    count = len(timing.onsets)
    while count > 1 and speech_start + timing.first(count).end + tail > limit:
        count -= 1  # the reading is cut short: drop trailing syllables
    timing = timing.first(count)
    frames = int(round((speech_start + timing.end + tail) * LIVELINK_FPS))
    frames = int(np.clip(frames, config.min_frames, config.max_frames))

    # The video ends within -0.15..+0.2 s of the Live Link take, so the two
    # durations differ by under 1 s; an outlier's video stops > 1 s early.
    end_offset = rng.uniform(-0.15, 0.2)
    if rng.random() < config.outlier_share / OUTLIER_ELIGIBLE and frames >= OUTLIER_MIN_FRAMES:
        end_offset = lag - rng.uniform(1.1, 2.0)
    end = frames / LIVELINK_FPS + end_offset

    t = np.arange(int((max(end, frames / LIVELINK_FPS) + 0.1) * LIVELINK_FPS * FINE)) / (LIVELINK_FPS * FINE)
    speech = speech_motion(rng, t, script, timing, speech_start, profile.jaw * manner.mouth)
    drivers = muscle_drivers(rng, t, profile, manner, speech)
    on_clock = slice(0, frames * FINE, FINE)  # the Live Link frames on the fine grid
    known = known_part(drivers[on_clock], profile)
    values = render(rng, known, speech.rounding[on_clock], hidden_parts(rng, frames, profile))
    fps = config.au_fps * rng.uniform(0.995, 1.005)
    stream = observe(rng, t, drivers, profile, lag, end, fps, clock_skew=rng.normal(0.0, 2e-4))

    name = f"s{speaker_index + 1:02d}"
    slot = config.voices.index(voice) * config.utterances_per_voice + item
    start = session_start(config.seed, speaker_index) + 30.0 * slot + rng.uniform(0.0, 10.0)
    return Utterance(
        id=utterance_id(name, voice, item),
        speaker=name,
        voice=voice,
        lag_frames=float(lag * LIVELINK_FPS),
        livelink=values,
        livelink_times=start + np.arange(frames) / LIVELINK_FPS,
        openface=stream,
        known=known,
    )


def simulate(config: SynthConfig) -> Iterator[Utterance]:
    """The corpus's utterances in order: speaker, voice, item."""
    if config.targets_from is not None:
        yield from real_target_utterances(config)
        return
    items = config.utterances_per_voice
    quantiles = script_quantiles(rng_for(config.seed, SCRIPT_SEEDS), items)
    scripts = [
        draw_script(rng_for(config.seed, SCRIPT_SEEDS, item), quantiles[item]) for item in range(items)
    ]
    for speaker_index in range(config.speakers):
        profile = draw_speaker(rng_for(config.seed, SPEAKER_SEEDS, speaker_index))
        for voice in config.voices:
            for item, script in enumerate(scripts):
                yield synthetic_utterance(config, speaker_index, profile, voice, item, script)


def count_utterances(config: SynthConfig) -> int | None:
    """How many utterances `simulate` yields (None: known only after reading the takes)."""
    if config.targets_from is not None:
        return None
    return config.speakers * len(config.voices) * config.utterances_per_voice


def aligned(utterance: Utterance) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(x, y, known) on the Live Link clock with the true alignment.

    x: (T, 17) AUs / 5 interpolated over tracked frames at each Live Link
    frame's real time; y: (T, 61); known: (T, 61) or None. T covers the
    frames inside the video.
    """
    stream = utterance.openface
    real = np.arange(len(utterance.livelink)) / LIVELINK_FPS
    inside = (real >= stream.real_times[0]) & (real <= stream.real_times[-1])
    good = stream.tracked
    x = np.stack(
        [np.interp(real[inside], stream.real_times[good], stream.aus[good, k]) for k in range(NUM_AUS)],
        axis=1,
    )
    known = None if utterance.known is None else utterance.known[inside]
    return x / AU_MAX_INTENSITY, utterance.livelink[inside], known
