"""Killing the driver mid-search, resuming it; packing trials on a fake GPU."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path

import optuna
import pandas as pd
import pytest
from tune_helpers import search_command, small_dataset, start_driver_until, trial_results

from tune.best import main as best_main
from tune.run import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    # Longer sequences than the other search tests: epochs must last long
    # enough for the kill to land mid-trial.
    return small_dataset(tmp_path_factory.mktemp("resume"), count=12, frames=400)


def _midway(run: Path, epochs: int) -> bool:
    return run.is_dir() and any(0 < len(rows) < epochs for rows in trial_results(run).values())


def _gpu_placements(cluster, state: str) -> int:
    """Placement groups in `state` that ask for a share of a GPU, as Ray's GCS reports them (Tune
    makes one per trial and holds it while the trial runs)."""
    groups = cluster.global_state.placement_group_table().values()
    return sum(
        g["state"] == state and any(b.get("GPU", 0) > 0 for b in g["bundles"].values()) for g in groups
    )


class _MostGpuPlacements(threading.Thread):
    """Polls Ray while a search runs: the most trials that held a share of a GPU at the same time."""

    def __init__(self, cluster, period_s: float = 0.2):
        super().__init__(daemon=True)
        self.cluster, self.period_s, self.most = cluster, period_s, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.most = max(self.most, _gpu_placements(self.cluster, "CREATED"))
            self._stop_event.wait(self.period_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def test_driver_killed_then_moved_and_resumed_finishes_exactly_num_samples(dataset, tmp_path, capsys):
    name, samples, epochs = "killed", 4, 6
    log, run = tmp_path / "driver.log", tmp_path / name
    # Kill once some trial is part-way: it has reported (and checkpointed) an
    # epoch but not the last one.
    driver = start_driver_until(
        search_command(dataset, tmp_path, name, samples, epochs), log, lambda: _midway(run, epochs)
    )
    # A second driver on the live run is refused, naming the live one.
    for second in (["--resume", name], ["--arch", "grunet0.6", "--name", name]):
        assert main([*second, "--storage", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"run is in use by another driver (pid {driver.pid} on " in err, err
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and the local Ray it started
    driver.wait()
    before = {folder: len(rows) for folder, rows in trial_results(run).items()}
    assert any(0 < n < epochs for n in before.values()), (before, log.read_text()[-3000:])

    # An interrupted run is inspected as far as it got, and says so.
    inspected = best_main([str(run)])
    printed = capsys.readouterr()
    assert inspected == 0, printed.err
    assert "INTERRUPTED: inspected as far as it got" in printed.out

    # The run is moved before it is resumed: it resumes, and is rewritten, where it lies now.
    old_place, storage = run, tmp_path / "moved"
    storage.mkdir()
    run = Path(shutil.move(str(run), str(storage / name)))
    assert main(["--resume", name, "--storage", str(storage)]) == 0
    assert not old_place.exists(), "the resumed run wrote to its old place"
    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == samples and set(trials["status"]) == {"completed"}
    assert (trials["epochs"] == epochs).all()
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{run / 'optuna.db'}")
    assert len(study.trials) == samples
    after = trial_results(run)
    for folder, count in before.items():
        if 0 < count < epochs:
            resumed = [row for row in after[folder] if row["resumed_from"] > 0]
            # Continued from its last checkpoint, not from epoch 0.
            assert (
                resumed
                and resumed[0]["resumed_from"] >= 1
                and resumed[0]["epoch"] == resumed[0]["resumed_from"] + 1
            )
            assert [row["epoch"] for row in after[folder]][-1] == epochs


def test_fractional_gpus_pack_four_trials_on_one_fake_gpu(dataset, tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 4, "num_gpus": 1, "include_dashboard": False}
    )
    watcher = _MostGpuPlacements(cluster)
    watcher.start()
    try:
        args = ["--arch", "grunet0.6", "--data", str(dataset), "--num-samples", "4", "--max-epochs", "5"]
        args += [
            "--scheduler",
            "fifo",
            "--train-fraction",
            "1",
            "--gpus-per-trial",
            "0.25",
            "--address",
            cluster.address,
        ]
        assert main([*args, "--storage", str(tmp_path), "--name", "gpu"]) == 0
    finally:
        watcher.stop()
        cluster.shutdown()
    rows = trial_results(tmp_path / "gpu")
    assert len(rows) == 4 and all(r[0]["gpu_ids"] == "0" for r in rows.values())
    # What Ray scheduled, not how the trials' clocks overlapped: the four quarter-GPU
    # placements were held at once. That lasts from before any trial starts until the
    # first one ends, so a slow machine only widens it.
    assert watcher.most == 4, f"at most {watcher.most} trials held a share of the GPU at once"
    config = json.loads((tmp_path / "gpu" / "config.json").read_text())
    assert config["gpus_per_trial"] == 0.25


def test_a_damaged_latest_checkpoint_falls_back_to_an_older_one(dataset, tmp_path):
    name, epochs = "damaged", 6
    run = tmp_path / name
    done = lambda: max((len(r) for r in trial_results(run).values()), default=0) if run.is_dir() else 0  # noqa: E731
    driver = start_driver_until(
        search_command(dataset, tmp_path, name, 1, epochs), tmp_path / "driver.log", lambda: done() >= 3
    )
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    (trial,) = run.glob("train_trial_*")
    latest, *older = sorted(trial.glob("checkpoint_*"), reverse=True)
    assert older, "Ray kept no older checkpoint to fall back on"
    (latest / "checkpoint.pt").write_bytes(b"")  # a disk that filled up mid-write

    assert main(["--resume", name, "--storage", str(tmp_path)]) == 0
    row = pd.read_parquet(run / "trials.parquet").iloc[0]
    assert row["status"] == "completed" and row["epochs"] == epochs
    assert row["restore_note"].startswith(f"damaged checkpoint {latest.name}: resumed from {older[0].name}")
    resumed = [r for r in trial_results(run)[trial.name] if r.get("restore_note")]
    assert resumed and resumed[0]["resumed_from"] >= 1 and resumed[-1]["epoch"] == epochs
