"""Readers and writers on real takes and on the variants found in the wild."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from au2bs.constants import AU_NAMES, BLENDSHAPE_NAMES, LIVELINK_NAMES
from au2bs.errors import InputError
from au2bs.formats import read_livelink, read_openface, write_livelink, write_openface
from au2bs.formats.timecode import format_timecodes, parse_timecodes


def test_every_real_take_round_trips(real_takes, tmp_path):
    for take_path in real_takes:
        take = read_livelink(take_path)
        assert take.values.shape == (len(take.times), 61) and take.has_rotations
        assert 1800 < len(take.times) < 1900
        written = write_livelink(tmp_path / take_path.name, take.values, times=take.times)
        again = read_livelink(written)
        # Identical to the written precision (10 decimals, 1/1000 frame) ...
        np.testing.assert_allclose(again.values, take.values, rtol=0, atol=5e-11)
        np.testing.assert_allclose(again.times, take.times, rtol=0, atol=1e-6)
        # ... and in fact byte for byte: the writer lays files out as the app does.
        assert filecmp.cmp(take_path, written, shallow=False), take_path.name


def test_timecode_formats_and_midnight(tmp_path):
    seconds, ok = parse_timecodes(pd.Series(["18:43:58:59.723", "18:43:59:00.724", "00:00:00:00", "1:2:3"]))
    assert ok.tolist() == [True, True, True, False]
    assert seconds[0] == pytest.approx(3600 * 18 + 60 * 43 + 58 + 59.723 / 60)
    assert (seconds[1] - seconds[0]) * 60 == pytest.approx(1.001)
    assert format_timecodes(seconds[:2]) == ["18:43:58:59.723", "18:43:59:00.724"]
    # A take that runs past midnight: plain HH:MM:SS:FF codes, 4 frames.
    lines = ["Timecode,BlendShapeCount," + ",".join(LIVELINK_NAMES)]
    for code in ("23:59:59:58", "23:59:59:59", "00:00:00:00", "00:00:00:01"):
        lines.append(f"{code},61," + ",".join(["0.1"] * 61))
    path = tmp_path / "midnight.csv"
    path.write_text("\n".join(lines) + "\n")
    take = read_livelink(path)
    np.testing.assert_allclose(np.diff(take.times), 1 / 60, atol=1e-9)


def test_livelink_52_channels_camel_case_any_order(tmp_path):
    rng = np.random.default_rng(0)
    names = [name[0].lower() + name[1:] for name in BLENDSHAPE_NAMES][::-1]  # eyeBlinkLeft..., reversed
    values = rng.uniform(0, 1, (5, 52))
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "BlendShapeCount", 52)
    frame.insert(0, "Timecode", [f"00:00:01:{i:02d}" for i in range(5)])
    path = tmp_path / "camel.csv"
    frame.to_csv(path, index=False, lineterminator="\r\n")
    take = read_livelink(path)
    assert not take.has_rotations
    np.testing.assert_allclose(take.values[:, :52], values[:, ::-1])
    assert (take.values[:, 52:] == 0).all()


@pytest.mark.parametrize("separator", [", ", ","])
@pytest.mark.parametrize("bom_crlf", [False, True])
def test_openface_separators_bom_crlf(tmp_path, separator, bom_crlf):
    times = np.arange(20) / 58.0
    aus = np.random.default_rng(1).uniform(0, 5, (20, 17)).round(2)
    path = write_openface(tmp_path / "of.csv", times, aus, separator=separator)
    if bom_crlf:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    take = read_openface(path)
    np.testing.assert_allclose(take.aus, aus, atol=1e-6)
    np.testing.assert_allclose(take.times, times.round(3))
    assert take.tracked.all() and take.face_id == 0


def test_openface_minimal_variant_without_frame_face_confidence_success(tmp_path):
    # Seen in the wild: timestamp, gaze, pose, AUs; plain commas; 15 fps.
    gaze = ["gaze_0_x", "gaze_0_y", "gaze_angle_x"]
    pose = ["pose_Tx", "pose_Rz"]
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        rng.uniform(0, 1, (30, len(gaze) + len(pose) + 17)).round(2), columns=gaze + pose + list(AU_NAMES)
    )
    frame.insert(0, "timestamp", np.arange(30) / 15)
    frame.to_csv(tmp_path / "wild.csv", index=False)
    take = read_openface(tmp_path / "wild.csv")
    assert take.face_id is None and take.tracked.all()
    np.testing.assert_allclose(take.aus, frame[list(AU_NAMES)].to_numpy(), atol=1e-6)


def test_openface_failed_and_low_confidence_frames_are_not_tracked(tmp_path):
    times = np.arange(10) / 30
    tracked = np.ones(10, bool)
    tracked[3:5] = False
    confidence = np.full(10, 0.95)
    confidence[7] = 0.5
    path = write_openface(tmp_path / "of.csv", times, np.ones((10, 17)), tracked, confidence)
    take = read_openface(path)
    assert take.tracked.tolist() == [True] * 3 + [False] * 2 + [True] * 2 + [False] + [True] * 2
    assert read_openface(path, min_confidence=0.4).tracked.sum() == 8  # success = 0 still fails


def test_openface_several_faces_keeps_the_most_frequent_and_says_so(tmp_path):
    first = write_openface(tmp_path / "a.csv", np.arange(6) / 30, np.full((6, 17), 1.0), face_id=0)
    second = write_openface(tmp_path / "b.csv", np.arange(9) / 30, np.full((9, 17), 2.0), face_id=1)
    header, *rows_a = first.read_text().splitlines()
    _, *rows_b = second.read_text().splitlines()
    mixed = tmp_path / "multi.csv"
    mixed.write_text("\n".join([header, *rows_a, *rows_b]) + "\n")
    take = read_openface(mixed)
    assert take.face_id == 1 and len(take.times) == 9 and (take.aus == 2.0).all()
    assert any("kept face_id 1" in note for note in take.notes)
    assert read_openface(mixed, face_id=0).aus.mean() == 1.0
    with pytest.raises(InputError, match="face_id 5 not in file"):
        read_openface(mixed, face_id=5)


def test_writer_rejects_wrong_shapes(tmp_path):
    with pytest.raises(ValueError):
        write_livelink(tmp_path / "x.csv", np.zeros((3, 52)))
    assert not list(tmp_path.iterdir())
