"""au2bs.stream: a causal checkpoint run frame by frame gives what offline prediction gives."""

from __future__ import annotations

import numpy as np
import pytest
from pairs_factory import write_pair
from tune_helpers import small_splits, tiny_checkpoint

from au2bs.errors import InputError
from au2bs.formats import read_openface
from au2bs.predict import Predictor, prepare_openface
from au2bs.stream import StreamingPredictor, streamable_architectures

CAUSAL = streamable_architectures()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    splits = small_splits(root)
    # Several files, one at 30 fps with a short and a long tracking gap.
    files = [root / "raw" / "openface" / f"utt0{i}.csv" for i in range(3)]
    gappy, _ = write_pair(root / "gappy", "gappy", seed=9, frames=240, au_fps=30.0, failed=slice(20, 24))
    files.append(gappy)
    return {"root": root, "splits": splits, "files": files}


@pytest.fixture(scope="module")
def checkpoints(corpus):
    return {arch: tiny_checkpoint(corpus["splits"], arch, corpus["root"] / arch) for arch in CAUSAL}


def streamed(stream: StreamingPredictor, path) -> np.ndarray:
    """The real causal path: every OpenFace row pushed as it would arrive, then a flush."""
    take = read_openface(path, stream.au_options.face_id, stream.au_options.min_confidence)
    frames = []
    for time, aus, tracked in zip(take.times, take.aus, take.tracked):
        frames += stream.push(time, aus, bool(tracked))
    frames += stream.flush()
    return np.array(frames)


@pytest.mark.parametrize("arch", CAUSAL)
def test_stepping_offline_frames_equals_offline_predict(arch, checkpoints, corpus):
    predictor = Predictor(checkpoints[arch])
    for path in corpus["files"]:
        stream = StreamingPredictor.from_checkpoint(checkpoints[arch])
        x = prepare_openface(path, predictor.au_options).x
        stepped = np.array([stream.step(frame) for frame in x])
        assert np.abs(stepped - predictor.predict(x)).max() < 1e-4, path.name


def measure(checkpoint, files) -> tuple[float, float]:
    """Max and mean |streamed - offline| over `files` (frames of both, 61 channels)."""
    predictor = Predictor(checkpoint)
    errors = []
    for path in files:
        offline = predictor.predict(prepare_openface(path, predictor.au_options).x)
        live = streamed(StreamingPredictor.from_checkpoint(checkpoint), path)
        assert live.shape == offline.shape, path.name
        errors.append(np.abs(live - offline).ravel())
    error = np.concatenate(errors)
    return float(error.max()), float(error.mean())


@pytest.mark.parametrize("arch", CAUSAL)
def test_pushing_rows_stays_close_to_offline(arch, checkpoints, corpus):
    # Files without long gaps: interpolation on arrival is offline's resampling, to float precision.
    clean_max, clean_mean = measure(checkpoints[arch], corpus["files"][:3])
    # The 30 fps file has a 0.13 s gap (interpolated as offline) and none longer: still equal.
    gap_max, gap_mean = measure(checkpoints[arch], corpus["files"][3:])
    print(
        f"{arch}: clean max {clean_max:.2e} mean {clean_mean:.2e}; gappy max {gap_max:.2e} mean {gap_mean:.2e}"
    )
    assert np.isfinite([clean_max, clean_mean, gap_max, gap_mean]).all()
    assert clean_max < 1e-4 and gap_max < 1e-4


def test_a_long_gap_is_held_not_waited_for(checkpoints, corpus):
    """Past max_gap_s the stream holds the last values: the one place it differs from offline."""
    path, _ = write_pair(corpus["root"] / "long", "long", seed=3, frames=240, failed=slice(60, 110))
    checkpoint = checkpoints["grunet0.3"]
    stream = StreamingPredictor.from_checkpoint(checkpoint)
    take = read_openface(path)
    gap_end = take.times[110]
    frames_before_resume = 0
    for time, aus, tracked in zip(take.times[:110], take.aus, take.tracked):
        frames_before_resume += len(stream.push(time, aus, bool(tracked)))
    # Frames keep coming during the gap, up to the last row's time.
    assert frames_before_resume == int(np.floor((take.times[109] - take.times[0]) * 60)) + 1
    assert gap_end > take.times[109]
    error_max, error_mean = measure(checkpoint, [path])
    print(f"long gap: max {error_max:.3e} mean {error_mean:.3e}")
    assert np.isfinite(error_max) and error_max < 1.0


def test_smoothing_becomes_a_trailing_average(corpus):
    """smooth_frames N: the stream's inputs are offline's centred average, delayed by N // 2 frames."""
    checkpoint = tiny_checkpoint(
        corpus["splits"], "fcnet", corpus["root"] / "smooth", {"au_options": {"smooth_frames": 6}}
    )
    predictor = Predictor(checkpoint)
    path = corpus["files"][0]
    offline = predictor.predict(prepare_openface(path, predictor.au_options).x)
    live = streamed(StreamingPredictor.from_checkpoint(checkpoint), path)
    # fcnet is per frame, so its outputs shift with its inputs; the first frames differ (edge padding).
    assert np.abs(live[3 + 3 :] - offline[3 : len(offline) - 3]).max() < 1e-4


def test_a_non_causal_checkpoint_is_refused_in_one_line(corpus):
    checkpoint = tiny_checkpoint(corpus["splits"], "grunet0.4", corpus["root"] / "seq2seq")
    with pytest.raises(InputError) as error:
        StreamingPredictor.from_checkpoint(checkpoint)
    message = str(error.value)
    assert "\n" not in message
    assert "grunet0.4 needs the whole utterance" in message
    assert all(arch in message for arch in CAUSAL)
