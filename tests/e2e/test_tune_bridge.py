"""What the Optuna study learns from a real search, and searches that repeat exactly."""

from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest
from tune_helpers import small_dataset, trial_results

from tune.experiment.optuna_bridge import OUTCOME_ATTR, RAY_TRIAL_ATTR
from tune.run import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("bridge"))


def _study(run) -> optuna.Study:
    return optuna.load_study(study_name=run.name, storage=f"sqlite:///{run / 'optuna.db'}")


def test_the_study_holds_pruned_trials_every_epoch_and_best_values(dataset, tmp_path):
    args = ["--arch", "fcnet", "--data", str(dataset), "--num-samples", "8", "--max-epochs", "4"]
    args += [
        "--grace-period",
        "1",
        "--reduction-factor",
        "2",
        "--max-concurrent",
        "2",
        "--train-fraction",
        "1",
    ]
    assert main([*args, "--storage", str(tmp_path), "--name", "asha"]) == 0
    run = tmp_path / "asha"
    trials = pd.read_parquet(run / "trials.parquet").set_index("trial_id")
    study = _study(run)
    assert len(study.trials) == len(trials) == 8
    states = {t.user_attrs[RAY_TRIAL_ATTR]: t for t in study.trials}
    assert set(states) == set(trials.index)

    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "ASHA stopped no trial: the test needs some to be stopped"
    for ray_id, ot_trial in states.items():
        row = trials.loc[ray_id]
        assert ot_trial.number == row["study_trial"]
        # Every epoch the trial ran, 1..k, the last one included.
        assert sorted(ot_trial.intermediate_values) == list(range(1, int(row["epochs"]) + 1)), ray_id
        if row["status"] == "stopped early (ASHA)":
            assert ot_trial.state == optuna.trial.TrialState.PRUNED
            assert ot_trial.user_attrs[OUTCOME_ATTR] == f"stopped by the scheduler at epoch {row['epochs']}"
        else:
            assert row["status"] == "completed" and row["epochs"] == 4
            assert ot_trial.state == optuna.trial.TrialState.COMPLETE
            # The best epoch's value, which the best checkpoint holds, not the last epoch's.
            assert ot_trial.value == pytest.approx(row["best/val_mse"], rel=1e-12)
            assert ot_trial.value == min(ot_trial.intermediate_values.values())
    # Per-epoch values are the ones the trial reported.
    for rows in trial_results(run).values():
        ot_trial = states[rows[-1]["trial_id"]]
        assert {r["epoch"]: r["val_mse"] for r in rows} == pytest.approx(ot_trial.intermediate_values)


def test_the_same_command_twice_gives_the_same_search(dataset, tmp_path):
    # fcnet: fast, and its training is as deterministic as the recurrent ones' on one CPU thread.
    args = ["--arch", "fcnet", "--data", str(dataset), "--num-samples", "4", "--max-epochs", "3"]
    args += ["--max-concurrent", "1", "--seed", "7", "--storage", str(tmp_path), "--train-fraction", "1"]
    searches = []
    for name in ("first", "second"):
        assert main([*args, "--name", name]) == 0
        trials = pd.read_parquet(tmp_path / name / "trials.parquet").sort_values("study_trial")
        configs = trials[[c for c in trials.columns if c.startswith("config/")] + ["seed", "study_trial"]]
        curves = {
            rows[0]["trial_id"]: [r["val_mse"] for r in rows]
            for rows in trial_results(tmp_path / name).values()
        }
        searches.append((configs.reset_index(drop=True), [curves[t] for t in trials["trial_id"]]))
    (configs_a, curves_a), (configs_b, curves_b) = searches
    assert configs_a["study_trial"].tolist() == [0, 1, 2, 3]
    assert configs_a["seed"].nunique() == 4
    pd.testing.assert_frame_equal(configs_a, configs_b)
    assert curves_a == curves_b and all(math.isfinite(v) for curve in curves_a for v in curve)
