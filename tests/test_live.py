"""python -m au2bs.live: datagrams a UDP receiver decodes, --follow, --replay timing, --record, bad input."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pairs_factory import write_pair
from tune_helpers import small_splits, tiny_checkpoint

from au2bs.constants import NUM_LIVELINK
from au2bs.formats import read_livelink, read_openface
from au2bs.live import decode_datagram, encode_datagram, to_receiver_order
from au2bs.live.__main__ import main
from au2bs.live.udp import new_device_id
from au2bs.stream import StreamingPredictor

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    splits = small_splits(root)
    # About 1.5 s of AUs at 58 fps.
    openface, _ = write_pair(root / "take", "take", seed=4, frames=100, lag_frames=10)
    return {
        "root": root,
        "checkpoint": tiny_checkpoint(splits, "grunet0.3", root / "gru"),
        "seq2seq": tiny_checkpoint(splits, "grunet0.4", root / "seq2seq"),
        "openface": openface,
    }


class Receiver:
    """A UDP socket on 127.0.0.1 (free port) collecting datagrams in a thread."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.received.append(self.socket.recv(65536))
            except TimeoutError:
                pass

    def close(self) -> list:
        time.sleep(0.1)
        self._stop.set()
        self._thread.join()
        self.socket.close()
        return [decode_datagram(data) for data in self.received]


def expected(checkpoint, path) -> np.ndarray:
    stream = StreamingPredictor.from_checkpoint(checkpoint)
    take = read_openface(path)
    frames = []
    for row_time, aus, tracked in zip(take.times, take.aus, take.tracked):
        frames += stream.push(row_time, aus, bool(tracked))
    return np.array(frames + stream.flush(), dtype=np.float32)


def check_datagrams(datagrams, want: np.ndarray, subject: str) -> None:
    assert len(datagrams) == len(want)
    assert all(d.version == 6 and d.subject == subject for d in datagrams)
    assert all(len(d.device_id) == 36 and "$" not in d.device_id for d in datagrams)
    assert all(d.subframe == 0.0 for d in datagrams)  # each datagram is a whole 60 fps frame
    assert all((d.fps_numerator, d.fps_denominator) == (60, 1) for d in datagrams)
    frames = np.array([d.frame for d in datagrams])
    assert (np.diff(frames) == 1).all()
    sent = np.array([to_receiver_order(frame) for frame in want])  # the app's positions: the identity
    assert np.array_equal(np.array([d.values for d in datagrams]), sent)


def test_the_datagram_layout_round_trips():
    values = np.linspace(-0.5, 1.0, NUM_LIVELINK)
    data = encode_datagram(new_device_id(), "face1", 4_000_000, values, subframe=0.375)
    assert data[0] == 6 and data[1:5] == (36).to_bytes(4, "big")
    assert data[41:45] == (5).to_bytes(4, "big") and data[45:50] == b"face1"
    assert len(data) == 1 + 4 + 36 + 4 + 5 + 16 + 1 + 61 * 4
    decoded = decode_datagram(data)
    assert decoded.frame == 4_000_000 and decoded.subframe == 0.375
    assert np.array_equal(decoded.values, values.astype(np.float32))


def test_replay_sends_what_the_stream_predicts_in_real_time(setup, tmp_path, capsys):
    receiver = Receiver()
    record = tmp_path / "sent.csv"
    argv = ["--checkpoint", str(setup["checkpoint"].parent), "--replay", str(setup["openface"])]
    argv += ["--target", f"127.0.0.1:{receiver.port}", "--subject", "tester", "--record", str(record)]
    started = time.monotonic()
    assert main(argv) == 0, capsys.readouterr().err
    elapsed = time.monotonic() - started
    datagrams = receiver.close()
    take = read_openface(setup["openface"])
    duration = take.times[-1] - take.times[0]
    assert abs(elapsed - duration) <= 0.2 * duration + 0.3, (elapsed, duration)
    want = expected(setup["checkpoint"], setup["openface"])
    check_datagrams(datagrams, want, "tester")
    recorded = read_livelink(record)
    assert np.abs(recorded.values - want).max() < 1e-9
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(
        f"done: rows in {len(take.times)}, frames out {len(want)}, dropped 0, latency p50"
    )


def test_follow_reads_a_growing_file_to_the_end(setup, tmp_path, capsys):
    lines = setup["openface"].read_text().splitlines(keepends=True)
    growing = tmp_path / "growing.csv"
    growing.write_text(lines[0])

    def append() -> None:
        with open(growing, "a") as handle:
            for index, line in enumerate(lines[1:]):
                if index == 30:
                    handle.write("1, 0, garbage\n")  # malformed: dropped
                half = len(line) // 2  # a line arrives in two writes
                handle.write(line[:half])
                handle.flush()
                handle.write(line[half:])
                handle.flush()
                if index % 10 == 0:
                    time.sleep(0.02)

    writer = threading.Thread(target=append)
    receiver = Receiver()
    writer.start()
    argv = ["--checkpoint", str(setup["checkpoint"]), "--follow", str(growing), "--idle-timeout", "0.5"]
    assert main(argv + ["--target", f"127.0.0.1:{receiver.port}"]) == 0, capsys.readouterr().err
    writer.join()
    check_datagrams(receiver.close(), expected(setup["checkpoint"], setup["openface"]), "au2bs")
    summary = capsys.readouterr().out.splitlines()[-1]
    assert f"rows in {len(lines) - 1}," in summary and "dropped 1," in summary


def test_follow_counts_malformed_rows_as_dropped(setup, tmp_path, capsys):
    lines = setup["openface"].read_text().splitlines(keepends=True)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "".join(lines[:10]) + "1, 0, garbage\n" + lines[10].replace("0.98", "x") + "".join(lines[11:])
    )
    receiver = Receiver()
    argv = ["--checkpoint", str(setup["checkpoint"]), "--follow", str(bad), "--idle-timeout", "0.2"]
    assert main(argv + ["--target", f"127.0.0.1:{receiver.port}"]) == 0
    receiver.close()
    summary = capsys.readouterr().out.splitlines()[-1]
    assert f"rows in {len(lines) - 2}, " in summary and "dropped 2," in summary


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--checkpoint": "seq2seq"}, "grunet0.4 needs the whole utterance"),
        ({"--replay": "missing.csv"}, "cannot read the OpenFace file"),
        ({"--target": "localhost"}, "--target must be HOST:PORT"),
        ({"--target": "127.0.0.1:99999"}, "--target must be HOST:PORT"),
        ({"--target": "no-such-host.invalid:11111"}, "cannot be reached"),
        ({"--subject": ""}, "--subject '' cannot be sent"),
        ({"--subject": "x" * 600}, "fit Unreal's receive buffer"),
        ({"--checkpoint": "nowhere"}, "checkpoint not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(setup, tmp_path, capsys, change, message):
    args = {
        "--checkpoint": str(setup["checkpoint"]),
        "--replay": str(setup["openface"]),
        "--target": "127.0.0.1:9",
    }
    for flag, value in change.items():
        raw = flag in ("--target", "--subject")
        args[flag] = value if raw else str(setup.get(value, tmp_path / value))
    assert main([item for pair in args.items() for item in pair]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err


def test_ctrl_c_stops_with_one_summary_line(setup, tmp_path):
    growing = tmp_path / "live.csv"
    growing.write_text(setup["openface"].read_text())
    receiver = Receiver()
    command = [sys.executable, "-m", "au2bs.live", "--checkpoint", str(setup["checkpoint"])]
    command += ["--follow", str(growing), "--idle-timeout", "60", "--target", f"127.0.0.1:{receiver.port}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    deadline = time.monotonic() + 30
    while not receiver.received and time.monotonic() < deadline:  # running: it has sent the file's frames
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    receiver.close()
    assert process.returncode == 130, err
    assert out.strip().splitlines()[-1].startswith("interrupted: rows in ")
    assert "Traceback" not in err


def test_a_long_session_keeps_only_what_record_needs():
    from au2bs.live.__main__ import LATENCY_WINDOW, Console, Sender

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{receiver.getsockname()[1]}"
        streaming, recording = Sender(target, "s"), Sender(target, "s", keep=True)
        for _ in range(3):
            streaming.send(np.zeros(61))
            recording.send(np.ones(61))
    assert (streaming.frames, streaming.kept) == (3, None)
    assert recording.frames == 3 and len(recording.kept) == 3
    console = Console(io.StringIO())
    console.latency.extend([0.001] * (LATENCY_WINDOW + 5))
    assert len(console.latency) == LATENCY_WINDOW and "frames out 3" in console.line(streaming)
