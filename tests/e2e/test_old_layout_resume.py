"""A run saved by tune/ before its sub-packages (flat tune/bridge.py, tune/console.py, ...) still
resumes: Ray unpickles the old class paths from its tuner.pkl and searcher state.

The run folder is tests/fixtures/old_layout_run.tar.gz, made by tests/fixtures/make_old_layout_run.py
at commit ada9a7f: fcnet, 4 trials of 3 epochs, interrupted by SIGINT after the first trial.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import optuna
import pandas as pd
import pytest
from tune_helpers import small_dataset

from tune.best import main as best_main
from tune.run import main as tune_main

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "old_layout_run.tar.gz"
NAME = "oldlayout"


def test_a_run_of_the_old_layout_resumes_and_finishes(tmp_path, capsys):
    storage = tmp_path / "store"
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(storage, filter="data")
    run = storage / NAME
    # The run was made beside a dataset that is gone; the same builder gives the same dataset here.
    dataset = small_dataset(tmp_path, count=12, frames=400)
    config = json.loads((run / "config.json").read_text())
    assert "arch" in config and "plan" not in config  # the flat config.json of the old layout
    (run / "config.json").write_text(json.dumps({**config, "data": str(dataset)}, indent=1) + "\n")
    before = pd.read_parquet(run / "trials.parquet")
    assert list(before["status"]) == ["completed"]  # 1 of 4 trials when it was interrupted

    code = tune_main(["--resume", NAME, "--storage", str(storage)])
    output = capsys.readouterr()
    assert code == 0, output.out[-3000:] + output.err[-3000:]
    assert f"resuming {NAME}: fcnet, 4 trials" in output.out
    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == 4 and set(trials["status"]) == {"completed"}
    assert before["trial_id"].iloc[0] in set(trials["trial_id"])  # the old trial kept, not rerun
    # The study went on in the run's new place, one Optuna trial per Ray trial.
    study = optuna.load_study(study_name=NAME, storage=f"sqlite:///{run / 'optuna.db'}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert best_main([str(run)]) == 0
    assert "(finished)" in capsys.readouterr().out
