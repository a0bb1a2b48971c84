"""The dataset builder on small corpora whose truth the test knows."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from pairs_factory import AU26, JAW_OPEN, write_corpus, write_pair

from au2bs.constants import AU_NAMES, FRAMES_FILE, LIVELINK_NAMES, MANIFEST_FILE, SPLITS
from au2bs.data import AuOptions, BuildOptions, LagMode, build_dataset, load_dataset
from au2bs.data.hashing import sha256_of
from au2bs.data.sources import find_pairs


def _build(source, out, **options):
    return build_dataset(source, out, BuildOptions(**options), progress=False, log=lambda _: None)


def test_lag_is_found_and_streams_are_aligned(tmp_path):
    source = write_corpus(tmp_path / "raw", count=8)
    manifest = _build(source, tmp_path / "ds")
    # write_corpus gives pair i a true lag of 18 + 3 i frames.
    found = {pid: info["lag_frames"] for pid, info in manifest["pairs"].items()}
    assert found == {f"utt{i:02d}": 18 + 3 * i for i in range(8)}
    data = load_dataset(tmp_path / "ds")
    for split in data.values():
        # AU26 was written as 5 x JawOpen: after alignment and /5 they agree up
        # to OpenFace's 2-decimal rounding and the 58 -> 60 fps interpolation.
        # One frame of misalignment would cost about 0.05 on average here.
        error = np.abs(split.x[:, AU26] - split.y[:, JAW_OPEN])
        assert error.mean() < 0.005 and error.max() < 0.05, (error.mean(), error.max())
        shifted = np.abs(split.x[1:, AU26] - split.y[:-1, JAW_OPEN])
        assert shifted.mean() > 4 * error.mean()


def test_lag_modes(tmp_path):
    source = write_corpus(tmp_path / "raw", count=3)
    fixed = _build(source, tmp_path / "fixed", lag=LagMode.parse("fixed:20"))
    none = _build(source, tmp_path / "none", lag=LagMode.parse("none"))
    assert {info["lag_frames"] for info in fixed["pairs"].values()} == {20}
    assert {info["lag_frames"] for info in none["pairs"].values()} == {0}
    assert fixed["options"]["lag"] == "fixed:20"


def test_manifest_records_everything(tmp_path):
    source = write_corpus(tmp_path / "raw", count=10)
    manifest = json.loads(json.dumps(_build(source, tmp_path / "ds", seed=7)))
    assert manifest == json.loads((tmp_path / "ds" / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == 1 and manifest["fps"] == 60 and manifest["seed"] == 7
    assert manifest["channels"] == {"aus": list(AU_NAMES), "livelink": list(LIVELINK_NAMES)}
    for key in ("max_duration_diff_s", "max_lag_s", "max_frames", "split_by", "split_fractions", "lag"):
        assert key in manifest["options"]
    assert manifest["options"]["au"]["max_gap_s"] == 0.25
    assert sorted(sum(manifest["splits"].values(), [])) == [f"utt{i:02d}" for i in range(10)]
    assert [len(manifest["splits"][s]) for s in SPLITS] == [7, 1, 2]
    pair = manifest["pairs"]["utt03"]
    assert pair["openface"]["sha256"] == sha256_of(source / "openface" / "utt03.csv")
    assert pair["livelink"]["sha256"] == sha256_of(source / "livelink" / "utt03.csv")
    assert manifest["counts"]["frames"] == pq.read_metadata(tmp_path / "ds" / FRAMES_FILE).num_rows


def test_frames_table_columns_and_loader_agree(tmp_path):
    source = write_corpus(tmp_path / "raw", count=6)
    _build(source, tmp_path / "ds")
    table = pq.read_table(tmp_path / "ds" / FRAMES_FILE).to_pandas()
    assert list(table.columns[:6]) == ["split", "utterance", "speaker", "voice", "frame", "time"]
    assert list(table.columns[6:]) == list(AU_NAMES + LIVELINK_NAMES)
    assert all(table[name].dtype == np.float32 for name in AU_NAMES + LIVELINK_NAMES)
    data = load_dataset(tmp_path / "ds")
    for split, arrays in data.items():
        rows = table[table["split"] == split]
        assert arrays.x.dtype == np.float32 and arrays.x.flags.c_contiguous
        np.testing.assert_array_equal(arrays.x, rows[list(AU_NAMES)].to_numpy())
        np.testing.assert_array_equal(arrays.y, rows[list(LIVELINK_NAMES)].to_numpy())
        assert arrays.offsets[0] == 0 and arrays.offsets[-1] == len(rows)
        for index, uid in enumerate(arrays.ids):
            frames = rows[rows["utterance"] == uid]["frame"].to_numpy()
            assert len(frames) == arrays.lengths[index] and (frames == np.arange(len(frames))).all()
    assert set(load_dataset(tmp_path / "ds", splits=("val",))) == {"val"}


def test_splits_are_seeded_and_speaker_disjoint_on_request(tmp_path):
    source = write_corpus(tmp_path / "raw", count=12, speakers=4)
    a = _build(source, tmp_path / "a", seed=1)["splits"]
    b = _build(source, tmp_path / "b", seed=1)["splits"]
    c = _build(source, tmp_path / "c", seed=2)["splits"]
    assert a == b and a != c
    by_speaker = _build(source, tmp_path / "d", split_by="speaker")
    speakers = {
        split: {by_speaker["pairs"][u]["speaker"] for u in ids} for split, ids in by_speaker["splits"].items()
    }
    assert all(speakers[s] for s in SPLITS)
    assert not (
        speakers["train"] & speakers["val"]
        or speakers["train"] & speakers["test"]
        or speakers["val"] & speakers["test"]
    )


def test_speaker_split_needs_three_speakers(tmp_path):
    source = write_corpus(tmp_path / "raw", count=4, speakers=2)
    with pytest.raises(Exception, match="needs at least 3 speakers, found 2"):
        _build(source, tmp_path / "ds", split_by="speaker")


def test_layout_without_manifest(tmp_path):
    source = write_corpus(tmp_path / "raw", count=4)
    (source / "pairs.csv").unlink()
    pairs = find_pairs(source)
    assert [p.id for p in pairs] == ["utt00", "utt01", "utt02", "utt03"]
    assert {p.speaker for p in pairs} == {"unknown"}
    assert _build(source, tmp_path / "ds")["counts"]["utterances"] == 4


def test_filters_duration_and_max_frames(tmp_path):
    source = write_corpus(tmp_path / "raw", count=6)
    # utt05: the Live Link take runs 2 s longer than the video.
    write_pair(source, "utt05", seed=5, frames=480, lag_frames=150)
    manifest = _build(source, tmp_path / "ds", max_frames=330)
    reasons = {r["id"]: r["reason"] for r in manifest["rejected"]}
    assert "stream durations differ by 2.50 s" in reasons["utt05"]
    assert all("not shorter than --max-frames 330" in reasons[u] for u in reasons if u != "utt05")
    kept = manifest["sequence_frames"]
    assert kept and all(n < 330 for n in kept.values())
    assert manifest["counts"]["rejected"] == len(reasons) and all(
        r["kind"] == "filtered" for r in manifest["rejected"]
    )


def test_tracking_gaps_short_interpolated_long_cut(tmp_path):
    source = tmp_path / "raw"
    write_pair(source, "short", seed=1, frames=600, failed=slice(100, 105))
    write_pair(source, "long", seed=2, frames=600, failed=slice(200, 260))
    manifest = _build(source, tmp_path / "ds", split_fractions=(1.0, 0.0, 0.0))
    assert manifest["pairs"]["short"]["interpolated_frames"] == 5
    assert list(manifest["pairs"]["short"]["sequences"]) == ["short"]
    long_info = manifest["pairs"]["long"]
    assert list(long_info["sequences"]) == ["long#1", "long#2"] and len(long_info["long_gaps_s"]) == 1
    start, end = long_info["long_gaps_s"][0]
    assert end - start > 0.9
    # The failed second is gone, not learned as a neutral face: the frames
    # kept add up to the take minus the gap (and the lag at the start).
    total = sum(long_info["sequences"].values())
    assert total < 600 - 24 - 60 + 3
    data = load_dataset(tmp_path / "ds")["train"]
    assert (data.x.sum(axis=1) > 0).all()


def test_smoothing_is_off_by_default_and_smooths_when_asked(tmp_path):
    source = write_corpus(tmp_path / "raw", count=3)
    plain = _build(source, tmp_path / "plain")
    smoothed = _build(source, tmp_path / "s6", au=AuOptions(smooth_frames=6))
    assert plain["options"]["au"]["smooth_frames"] == 0 and smoothed["options"]["au"]["smooth_frames"] == 6
    a = load_dataset(tmp_path / "plain")["train"].y
    b = load_dataset(tmp_path / "s6")["train"].y
    assert a.shape == b.shape
    assert np.abs(np.diff(b, axis=0)).mean() < np.abs(np.diff(a, axis=0)).mean()


def test_force_replaces_and_keeps_nothing_stale(tmp_path):
    source = write_corpus(tmp_path / "raw", count=4)
    _build(source, tmp_path / "ds")
    shutil.rmtree(source / "openface")  # now every pair is bad
    with pytest.raises(Exception, match="not found"):
        build_dataset(source, tmp_path / "ds", force=True, progress=False)
    assert load_dataset(tmp_path / "ds")["train"].x.size  # the old dataset is intact


def test_pairs_csv_paths_are_relative_to_its_folder(tmp_path):
    write_corpus(tmp_path / "raw", count=3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with open(elsewhere / "pairs.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "openface", "livelink", "speaker", "voice"])
        for i in range(3):
            writer.writerow(
                [f"u{i}", f"../raw/openface/utt{i:02d}.csv", f"../raw/livelink/utt{i:02d}.csv", "s", "low"]
            )
    manifest = _build(elsewhere, tmp_path / "ds")
    assert manifest["counts"]["voices"] == ["low"] and manifest["counts"]["utterances"] == 3
