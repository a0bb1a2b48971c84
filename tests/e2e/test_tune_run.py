"""The search end to end on a real local Ray (no mocks): small, but every piece real."""

from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tune_helpers import small_dataset, trial_results

from au2bs.constants import FRAMES_FILE
from au2bs.data import load_dataset
from au2bs.train import TrainConfig, Trainer, load_checkpoint
from tune.best import main as best_main
from tune.run import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("tune"))


def test_small_search_writes_the_run_and_its_best_checkpoint_reproduces(dataset, tmp_path, capsys):
    args = ["--arch", "grunet0.3", "--data", str(dataset), "--num-samples", "5", "--max-epochs", "3"]
    assert (
        main([*args, "--storage", str(tmp_path), "--name", "small", "--train-fraction", "1", "--seed", "1"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "best configuration of grunet0.3" in printed and "python -m tune.best" in printed
    run = tmp_path / "small"
    for name in ("config.json", "trials.parquet", "summary.json", "optuna.db"):
        assert (run / name).is_file(), name

    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == 5 and trials["research_config"].sum() == 1
    assert set(trials["status"]) <= {"completed", "stopped early (ASHA)"}
    assert trials["seed"].nunique() == 5
    study = optuna.load_study(study_name="small", storage=f"sqlite:///{run / 'optuna.db'}")
    assert len(study.trials) == 5

    summary = json.loads((run / "summary.json").read_text())
    assert summary["best"]["val_mse"] == trials["best/val_mse"].min()
    state = load_checkpoint(f"{summary['best']['checkpoint']}/checkpoint.pt")
    assert state["epoch"] == summary["best"]["epoch"]
    data = load_dataset(dataset)
    trainer = Trainer(TrainConfig.from_dict(state["train_config"]), data["train"], data["val"], "cpu")
    trainer.restore(state)
    again = trainer.evaluate(data["val"])["blendshapes"]["mse"]
    assert again == pytest.approx(summary["best"]["val_mse"], rel=1e-5)

    # Every trial read the shared arrays as read-only views of the object store copy.
    results = [row for rows in trial_results(run).values() for row in rows]
    assert results and all(row["shared_read_only"] for row in results)


def test_a_search_where_every_trial_diverged_says_so_and_fails(dataset, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_bytes((dataset / "manifest.json").read_bytes())
    table = pq.read_table(dataset / FRAMES_FILE)
    jaw = table.column("JawOpen").to_numpy().copy()
    jaw[3] = np.nan  # in the first training sequence: every trial meets it in epoch 1
    pq.write_table(
        table.set_column(table.schema.get_field_index("JawOpen"), "JawOpen", pa.array(jaw)),
        broken / FRAMES_FILE,
    )

    args = ["--arch", "grunet0.1", "--data", str(broken), "--num-samples", "2", "--max-epochs", "2"]
    # Every trial diverged: no best configuration, and a non-zero exit.
    assert main([*args, "--storage", str(tmp_path), "--name", "div", "--train-fraction", "1"]) == 1
    printed = capsys.readouterr()
    assert "every trial diverged (2 of 2)" in printed.err and "best configuration of" not in printed.out
    trials = pd.read_parquet(tmp_path / "div" / "trials.parquet")
    assert list(trials["status"]) == ["diverged", "diverged"]
    assert all("training loss became nan" in error for error in trials["error"])
    assert all(math.isinf(v) for v in trials["best/val_mse"])
    summary = json.loads((tmp_path / "div" / "summary.json").read_text())
    assert summary["best"] is None and "every trial diverged" in summary["no_best"]
    # The study records them as COMPLETE with +inf: TPE ranks their region last.
    study = optuna.load_study(study_name="div", storage=f"sqlite:///{tmp_path / 'div' / 'optuna.db'}")
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert all(math.isinf(t.value) and t.user_attrs["outcome"] == "diverged at epoch 1" for t in study.trials)
    assert all(t.intermediate_values == {1: math.inf} for t in study.trials)
    # tune.best says the same, in one line.
    assert best_main([str(tmp_path / "div")]) == 2
    assert "every trial diverged (2 of 2)" in capsys.readouterr().err


def test_bad_input_fails_before_ray_starts(dataset, tmp_path, capsys):
    cases = [
        (["--arch", "grunet9"], "registered: grunet0.1"),
        (["--arch", "grunet0.3", "--data", str(tmp_path / "nope")], "dataset folder not found"),
        (["--arch", "grunet0.3", "--data", str(tmp_path)], "not a dataset"),
        (["--arch", "grunet0.3", "--resume", "ghost"], "no run 'ghost' to resume"),
        (["--arch", "grunet0.3", "--grace-period", "5", "--max-epochs", "3"], "exceeds --max-epochs"),
        (["--arch", "grunet0.3", "--num-samples", "0"], "--num-samples must be > 0"),
        # A run name never leaves --storage.
        (["--arch", "grunet0.3", "--name", "../escape"], "must be a plain folder name"),
        (["--arch", "grunet0.3", "--name", "/tmp/abs"], "must be a plain folder name"),
        (["--arch", "grunet0.3", "--name", "a/b"], "must be a plain folder name"),
        (["--arch", "grunet0.3", "--name", ".."], "must be a plain folder name"),
        (["--resume", "../x"], "must be a plain folder name"),
        (["--arch", "grunet0.3", "--cpus-per-trial", "nan"], "--cpus-per-trial must be a finite number"),
        (["--arch", "grunet0.3", "--time-budget", "inf"], "--time-budget must be a finite number"),
        (["--arch", "grunet0.3", "--train-fraction", "nan"], "--train-fraction must be in (0, 1]"),
    ]
    import torch

    if not torch.cuda.is_available():
        cases.append((["--arch", "grunet0.3", "--gpus-per-trial", "0.5"], "no CUDA GPU"))
    for flags, message in cases:
        assert main([*flags, "--storage", str(tmp_path / "runs")]) == 2, flags
        assert message in capsys.readouterr().err, flags
    # A storage path under a plain file can never be created (even as root).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["--arch", "grunet0.3", "--storage", str(blocker / "runs")]) == 2
    assert "storage folder is not writable" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_show_space_prints_the_space_without_running(capsys):
    assert main(["--arch", "grunet0.5", "--show-space"]) == 0
    printed = capsys.readouterr().out
    for name in ("hidden_size", "dropout", "negrelu_weight", "batch_size", "learning_rate"):
        assert name in printed


def test_time_budget_stops_new_trials_and_lets_running_ones_finish(dataset, tmp_path):
    args = ["--arch", "fcnet", "--data", str(dataset), "--num-samples", "20", "--max-epochs", "2"]
    args += ["--time-budget", "1", "--max-concurrent", "1", "--scheduler", "fifo"]
    assert main([*args, "--storage", str(tmp_path), "--name", "budget"]) == 0
    trials = pd.read_parquet(tmp_path / "budget" / "trials.parquet")
    # The first trial starts within the budget and runs to the end; none starts after it.
    assert 1 <= len(trials) < 20 and set(trials["status"]) == {"completed"}


def test_without_address_the_search_starts_its_own_local_ray(dataset, tmp_path, monkeypatch):
    """A `ray start` cluster on the machine (found through RAY_ADDRESS here) is never joined."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        theirs = set(_node_ids(cluster.address))
        monkeypatch.setenv("RAY_ADDRESS", cluster.address)
        args = ["--arch", "fcnet", "--data", str(dataset), "--num-samples", "1", "--max-epochs", "1"]
        assert main([*args, "--storage", str(tmp_path), "--name", "private"]) == 0
    finally:
        cluster.shutdown()
    ran_on = {row["node_id"] for rows in trial_results(tmp_path / "private").values() for row in rows}
    assert ran_on and not ran_on & theirs


def _node_ids(address: str) -> list[str]:
    """The node ids of the cluster at `address`, asked from a short-lived driver."""
    import subprocess
    import sys

    code = f"import ray, json; ray.init(address={address!r}); print(json.dumps([n['NodeID'] for n in ray.nodes()]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_saved_config_with_bad_values_is_one_line(tmp_path, capsys):
    """config.json edited by hand (or by someone else): --resume and tune.best answer one line, exit 2."""
    run = tmp_path / "edited"
    run.mkdir()
    good = {
        "arch": "fcnet", "data": None, "num_samples": 6, "max_epochs": 3, "grace_period": 1,
        "reduction_factor": 3, "scheduler": "asha", "search": "optuna", "time_budget_s": None,
        "cpus_per_trial": 1.0, "gpus_per_trial": None, "max_concurrent": None, "seed": 0,
        "storage": str(tmp_path), "name": "edited", "address": None, "keep_checkpoints": 2,
        "max_failures": 3, "train_fraction": 0.25,
    }  # fmt: skip
    for change, message in (
        ({"num_samples": "six"}, "num_samples must be int, got 'six'"),
        ({"max_epochs": 0}, "--max-epochs must be > 0"),
        ({"train_fraction": None}, "train_fraction must be float"),
        ({"seed": True}, "seed must be int"),
        ({"extra": 1}, "unknown ['extra']"),
    ):
        (run / "config.json").write_text(json.dumps({**good, **change}))
        for command, entry in (
            (["--resume", "edited", "--storage", str(tmp_path)], main),
            ([str(run)], best_main),
        ):
            assert entry(command) == 2, change
            err = capsys.readouterr().err
            assert message in err and err.count("\n") == 1, err
