"""The synthetic corpus through the real builder: lags, noise floor, default dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from au2bs.constants import CORPUS_META_FILE, NUM_AUS, NUM_LIVELINK
from au2bs.data import BuildOptions, build_dataset, load_dataset
from au2bs.data.default import CACHE_ENV, default_dataset
from au2bs.synth import SynthConfig, generate_corpus

# Past frames a windowed model sees (every 3rd of the last 30 = 0.5 s).
WINDOW = tuple(range(0, 31, 3))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    generate_corpus(root / "raw", SynthConfig(speakers=4, utterances_per_voice=6, seed=11), progress=False)
    manifest = build_dataset(
        root / "raw", root / "ds", BuildOptions(seed=11), progress=False, log=lambda _: None
    )
    return root, manifest


def test_estimated_lags_match_the_generator(built):
    root, manifest = built
    truth = json.loads((root / "raw" / CORPUS_META_FILE).read_text())["utterances"]
    errors = np.array(
        [info["lag_frames"] - truth[uid]["lag_frames"] for uid, info in manifest["pairs"].items()]
    )
    within = np.mean(np.abs(errors) <= 2)
    print(
        f"lag within 2 frames: {within:.1%} of {len(errors)}; errors {np.percentile(np.abs(errors), [50, 90, 100])}"
    )
    assert within >= 0.9


def _design(x: np.ndarray, offsets: np.ndarray, lags: tuple[int, ...]) -> np.ndarray:
    """Rows: [1, x_t, x_{t-3}, ...] with the past clamped at each sequence start."""
    columns = [np.ones((len(x), 1), np.float32)]
    for lag in lags:
        shifted = np.empty_like(x)
        for a, b in zip(offsets[:-1], offsets[1:]):
            index = np.maximum(np.arange(a, b) - lag, a)
            shifted[a:b] = x[index]
        columns.append(shifted)
    return np.concatenate(columns, axis=1)


def _linear_test_mse(data, lags) -> float:
    train, test = data["train"], data["test"]
    design = _design(train.x, train.offsets, lags)
    weights, *_ = np.linalg.lstsq(design, train.y, rcond=None)
    prediction = _design(test.x, test.offsets, lags) @ weights
    return float(np.mean((prediction - test.y) ** 2))


def test_temporal_models_matter_and_the_oracle_is_below_both(built):
    root, manifest = built
    data = load_dataset(root / "ds")
    oracle = manifest["oracle"]["per_split"]["test"]["mse_61"]
    per_frame = _linear_test_mse(data, (0,))
    windowed = _linear_test_mse(data, WINDOW)
    print(
        f"test MSE (61 channels): oracle {oracle:.5f}, windowed linear {windowed:.5f}, per-frame linear {per_frame:.5f}"
    )
    assert oracle < windowed < per_frame
    assert per_frame > 1.5 * oracle, "a per-frame linear model must fall clearly short of the oracle"
    assert data["train"].x.shape[1] == NUM_AUS and data["train"].y.shape[1] == NUM_LIVELINK


def test_default_dataset_is_built_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    config = SynthConfig(speakers=2, utterances_per_voice=2, seed=3)
    messages: list[str] = []
    first = default_dataset(config, progress=False, log=messages.append)
    assert any("first use" in m for m in messages) and first.is_relative_to(tmp_path)
    messages.clear()
    assert default_dataset(config, progress=False, log=messages.append) == first and not messages
    assert load_dataset(first)["train"].x.size


def test_progress_bars_stay_out_of_logs(tmp_path, capsys):
    """Output to a file or CI log (not a terminal) gets no tqdm bar and so no carriage returns."""
    config = SynthConfig(speakers=2, utterances_per_voice=1, seed=3)
    generate_corpus(tmp_path / "raw", config, progress=True)
    build_dataset(tmp_path / "raw", tmp_path / "ds", BuildOptions(seed=3), progress=True, log=print)
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err
    assert "dataset at" in captured.out  # the builder's own lines still come
