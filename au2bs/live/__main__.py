"""python -m au2bs.live: OpenFace rows -> a causal checkpoint -> Live Link Face UDP, one datagram per 60 fps frame."""

from __future__ import annotations

import argparse
import datetime
import socket
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from au2bs import cli
from au2bs.constants import LIVELINK_FPS, NUM_LIVELINK
from au2bs.errors import InputError
from au2bs.formats import write_livelink
from au2bs.live.channels import wire_order
from au2bs.live.rows import RowParser
from au2bs.live.udp import DEFAULT_PORT, encode_datagram, new_device_id
from au2bs.predict import resolve_checkpoint
from au2bs.stream import StreamingPredictor

POLL_S = 0.01  # how often --follow looks for new lines
INTERRUPTED = 130  # the shell's status for Ctrl-C


LATENCY_WINDOW = 10_000  # rows the latency percentiles are taken over (the latest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.live",
        description="Stream OpenFace AUs through a causal checkpoint to Unreal's Live Link Face source "
        "(UDP, one datagram per 60 fps frame).",
        epilog="A malformed row (wrong number of fields, a non-number, an implausible value, a timestamp "
        "not after the previous one) is skipped and counted as dropped; the stream goes on. "
        "Ctrl-C stops with a summary line (exit 130).",
    )
    cli.add_checkpoint(parser, "; a causal architecture")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--follow", metavar="FILE", help="an OpenFace CSV still being written: read new lines as they appear"
    )
    source.add_argument(
        "--replay", metavar="FILE", help="a recorded OpenFace CSV, played at its own timestamps in real time"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=5.0,
        help="--follow stops after this many seconds without new data (default: %(default)s)",
    )
    parser.add_argument(
        "--target",
        default=f"127.0.0.1:{DEFAULT_PORT}",
        help="HOST:PORT of the Live Link receiver (default: %(default)s)",
    )
    parser.add_argument("--subject", default="au2bs", help="subject name Unreal lists (default: %(default)s)")
    parser.add_argument(
        "--swap-lr",
        action="store_true",
        help="send JawLeft/JawRight and MouthLeft/MouthRight the other way round: by the names of the "
        "app's CSV header rather than by what those columns hold (see README, 'Which side is which'); "
        "for a model trained on files that name these channels by what they hold",
    )
    parser.add_argument(
        "--record", metavar="OUT.csv", help="also write what was sent as a Live Link Face CSV"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(build_parser(), _live, argv)


class Sender:
    """A UDP socket connected to the receiver; a closed port there is counted, not fatal."""

    def __init__(self, target: str, subject: str, keep: bool = False, swap_lr: bool = False) -> None:
        self.device_id = new_device_id()
        try:
            encode_datagram(self.device_id, subject, 0, np.zeros(NUM_LIVELINK))
        except ValueError as error:
            raise InputError(f"--subject {subject!r} cannot be sent: {error}") from None
        host, _, port_text = target.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InputError(f"--target must be HOST:PORT with a port 1-65535, got {target!r}")
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host, int(port_text), type=socket.SOCK_DGRAM
            )[0]
            self.socket = socket.socket(family, kind, proto)
            self.socket.connect(address)
        except OSError as error:
            raise InputError(f"--target {target} cannot be reached: {error}") from None
        self.subject = subject
        self.order = wire_order(swap_lr)  # datagram slot -> channel, computed once for the stream
        now = datetime.datetime.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.first_frame = int((now - midnight).total_seconds() * LIVELINK_FPS)
        self.frames = 0  # datagrams sent so far
        # What was sent, for --record only: a session of hours would otherwise grow without end.
        self.kept: list[np.ndarray] | None = [] if keep else None
        self.refused = 0  # datagrams the receiver's host bounced (nothing listening yet)

    def send(self, values: np.ndarray) -> None:
        frame = self.first_frame + self.frames
        try:
            datagram = encode_datagram(self.device_id, self.subject, frame, np.asarray(values)[self.order])
            self.socket.send(datagram)
        except ConnectionRefusedError:
            self.refused += 1
        self.frames += 1
        if self.kept is not None:
            self.kept.append(np.asarray(values, dtype=np.float32))


class Console:
    """Counters and latency, one line updated in place on a TTY, a plain line every few seconds otherwise."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.rows = self.dropped = 0
        # Seconds from row parsed to datagram sent, over the latest rows (bounded for long sessions).
        self.latency: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._shown = time.monotonic()

    def line(self, sender: Sender) -> str:
        if self.latency:
            p50, p99 = np.percentile(self.latency, [50, 99]) * 1000
            latency = f"latency p50 {p50:.1f} ms p99 {p99:.1f} ms"
        else:
            latency = "latency -"
        refused = f", {sender.refused} refused by the receiver" if sender.refused else ""
        return f"rows in {self.rows}, frames out {sender.frames}, dropped {self.dropped}, {latency}{refused}"

    def update(self, sender: Sender) -> None:
        now = time.monotonic()
        if now - self._shown < (0.25 if self.tty else 2.0):
            return
        self._shown = now
        text = self.line(sender)
        self.out.write(f"\r{text}\x1b[K" if self.tty else text + "\n")
        self.out.flush()

    def finish(self, text: str) -> None:
        self.out.write(("\r\x1b[K" if self.tty else "") + text + "\n")
        self.out.flush()


def _live(args: argparse.Namespace) -> int:
    stream = StreamingPredictor.from_checkpoint(resolve_checkpoint(args.checkpoint))
    path = Path(args.follow or args.replay)
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise InputError(f"cannot read the OpenFace file: {error.strerror}", path) from None
    record = Path(args.record) if args.record else None
    if record is not None and (record.exists() or not record.parent.is_dir()):
        raise InputError("--record would overwrite a file or its folder does not exist", record)
    if args.idle_timeout <= 0:
        raise InputError(f"--idle-timeout must be positive, got {args.idle_timeout}")
    sender = Sender(args.target, args.subject, keep=record is not None, swap_lr=args.swap_lr)
    console = Console()
    status, how = 0, "done"
    try:
        with handle:
            lines = _follow(handle, args.idle_timeout) if args.follow else _lines(handle)
            _run(lines, stream, sender, console, path, replay=bool(args.replay))
        for values in stream.flush():
            sender.send(values)
    except KeyboardInterrupt:
        status, how = INTERRUPTED, "interrupted"
    summary = f"{how}: {console.line(sender)}"
    if record is not None and sender.kept:
        write_livelink(
            record, np.array(sender.kept, dtype=np.float64), start_seconds=sender.first_frame / LIVELINK_FPS
        )
        summary += f"; recorded to {record}"
    console.finish(summary)
    return status


def _run(
    lines: Iterator[str], stream: StreamingPredictor, sender: Sender, console: Console, path, replay: bool
):
    header = next(lines, None)
    if header is None:
        raise InputError("no header line (empty file, or nothing written before --idle-timeout)", path)
    parser = RowParser(header, stream.au_options, path)
    face = stream.au_options.face_id
    start: tuple[float, float] | None = None  # (first row's timestamp, its wall-clock time) for --replay
    for line in lines:
        if not line.strip():
            continue
        try:
            row = parser.parse(line)
        except ValueError:
            console.dropped += 1
            continue
        face = row.face_id if face is None else face  # several faces: the first one seen
        if row.face_id is not None and row.face_id != face:
            continue
        if replay:
            start = start or (row.time, time.monotonic())
            time.sleep(max(0.0, start[1] + row.time - start[0] - time.monotonic()))
        parsed = time.perf_counter()
        try:
            frames = stream.push(row.time, row.aus, row.tracked)
        except ValueError:  # a timestamp not after the previous one
            console.dropped += 1
            continue
        console.rows += 1
        for values in frames:
            sender.send(values)
            console.latency.append(time.perf_counter() - parsed)
        console.update(sender)


def _lines(handle) -> Iterator[str]:
    for raw in handle:
        yield raw.decode("utf-8", errors="replace")


def _follow(handle, idle_timeout: float) -> Iterator[str]:
    """Complete lines of a growing file; ends after `idle_timeout` seconds without growth."""
    pending = b""
    last_growth = time.monotonic()
    while True:
        chunk = handle.read()
        if chunk:
            last_growth = time.monotonic()
            *complete, pending = (pending + chunk).split(b"\n")
            for raw in complete:
                yield raw.decode("utf-8", errors="replace")
        elif time.monotonic() - last_growth > idle_timeout:
            return  # an unfinished last line is not a row yet: it is left out
        else:
            time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main())
