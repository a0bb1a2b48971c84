"""Watching a multi-node test cluster: object-store use per node, killing a node mid-trial.

Both run as threads beside the search (which blocks the test's main thread)
and talk to the nodes directly, not through the driver's Ray connection.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from ray._private.internal_api import node_stats
from run_results import trial_results

from au2bs.data import load_dataset


def shared_bytes(dataset: Path) -> int:
    """What a search with --train-fraction 1 puts into the object store: the train and val arrays."""
    splits = load_dataset(dataset, ("train", "val"))
    return sum(a.nbytes for split in splits.values() for a in (split.x, split.y, split.offsets))


class ObjectStoreWatcher(threading.Thread):
    """Samples each node's object store until stopped; keeps the peak bytes per node."""

    def __init__(self, nodes, period_s: float = 0.2):
        super().__init__(daemon=True)
        self.nodes = list(nodes)
        self.period_s = period_s
        self.peak_bytes: dict[str, int] = {node.node_id: 0 for node in self.nodes}
        self.peak_objects: dict[str, int] = {node.node_id: 0 for node in self.nodes}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for node in self.nodes:
                try:
                    stats = node_stats(node.node_ip_address, node.node_manager_port, False).store_stats
                except Exception:  # a node that was killed: nothing more to sample there
                    continue
                used, count = int(stats.object_store_bytes_used), int(stats.num_local_objects)
                self.peak_bytes[node.node_id] = max(self.peak_bytes[node.node_id], used)
                self.peak_objects[node.node_id] = max(self.peak_objects[node.node_id], count)
            self._stop_event.wait(self.period_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def latest_rows(run: Path) -> dict[str, dict]:
    """trial folder -> the last result it reported (trials with none left out)."""
    return {trial: rows[-1] for trial, rows in trial_results(run).items() if rows}


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class KillWhenMidway(threading.Thread):
    """Kills `victim` (no grace) once all `trials` have reported, every one on the victim is
    part-way and another node runs trials.

    Part-way: at least one epoch reported, so a checkpoint exists, and at least three
    to go, so no trial finishes in the moment between looking and killing.
    `snapshot` keeps each trial's last result as seen just before the kill.
    """

    def __init__(self, cluster, victim, run: Path, trials: int, epochs: int, timeout_s: float):
        super().__init__(daemon=True)
        self.cluster, self.victim, self.run_path = cluster, victim, run
        self.trials, self.epochs, self.timeout_s = trials, epochs, timeout_s
        self.killed_at: float | None = None
        self.snapshot: dict[str, dict] = {}
        self.error: str | None = None

    def _ready(self, latest: dict[str, dict]) -> bool:
        on_victim = [row for row in latest.values() if row.get("node_id") == self.victim.node_id]
        elsewhere = [row for row in latest.values() if row.get("node_id") != self.victim.node_id]
        return (
            len(latest) == self.trials
            and bool(on_victim and elsewhere)
            and all(1 <= row["epoch"] <= self.epochs - 3 for row in on_victim)
        )

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            latest = latest_rows(self.run_path) if self.run_path.is_dir() else {}
            if self._ready(latest):
                self.snapshot = latest
                self.killed_at = time.time()
                # A machine that dies takes its trial processes with it; killing the
                # raylet alone leaves them running (and reporting) for about a second.
                for row in latest.values():
                    if row["node_id"] == self.victim.node_id:
                        _kill(row["pid"])
                self.cluster.remove_node(self.victim, allow_graceful=False)
                return
            time.sleep(0.1)
        self.error = f"no moment with every trial on the victim part-way within {self.timeout_s:.0f} s"
