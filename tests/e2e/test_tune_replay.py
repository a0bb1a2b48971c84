"""The replay trainable of bench/hpo_replay.py reports a recorded curve exactly, through real Ray Tune."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import ray
from ray import tune as ray_tune
from replay import Grid, replay_trial  # bench/replay.py

from tune.runfolder.layout import METRIC

CURVES = Path(__file__).resolve().parents[2] / "bench" / "curves" / "grunet0.3.parquet"

pytestmark = pytest.mark.slow


def test_the_replay_trial_reports_the_recorded_curve_exactly(tmp_path):
    grid = Grid(CURVES, None)
    recorded = pd.read_parquet(CURVES)
    assert len(grid.curves) >= 48 and grid.epochs >= 27
    # The research's configuration and the grid's best, and every mix of their values (all in the grid).
    best_id = int(recorded.loc[recorded["val_mse"].idxmin(), "config_id"])
    chosen = [recorded[recorded["config_id"] == i].iloc[0] for i in (17, best_id)]
    space = {name: ray_tune.grid_search(sorted({row[name].item() for row in chosen})) for name in grid.space}
    ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False
    )
    try:
        tuner = ray_tune.Tuner(
            ray_tune.with_parameters(replay_trial, grid=grid, time_scale=0.0),
            param_space=space,
            run_config=ray_tune.RunConfig(storage_path=str(tmp_path), name="replay", verbose=0),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    assert not results.errors and len(results) >= 2
    for result in results:
        curve = grid.curves[grid.key(result.config)]
        history = result.metrics_dataframe.sort_values("epoch")
        expected = recorded[recorded["config_id"] == curve["config_id"]].sort_values("epoch")
        assert history["epoch"].tolist() == list(range(1, grid.epochs + 1))
        assert history[METRIC].tolist() == expected["val_mse"].tolist()  # exactly, not approximately
        assert (history["config_id"] == curve["config_id"]).all()
