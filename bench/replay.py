"""Replaying recorded learning curves through Ray Tune (bench/hpo_replay.py; benchmark-only).

A replay trial reads its configuration's curve, recorded by
bench/record_curves.py, and reports it epoch after epoch instead of
training, sleeping the recorded epoch seconds times a scale factor, so the
real Ray Tune loop (searcher, scheduler, concurrency, finish order) runs
over known outcomes in seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from ray import cloudpickle
from ray import tune as ray_tune

from tune.runfolder.layout import METRIC


class Grid:
    """The recorded curves: a configuration's hyperparameters -> its per-epoch rows."""

    def __init__(self, path: Path, max_epochs: int | None) -> None:
        table = pq.read_table(path)
        self.meta = json.loads(table.schema.metadata[b"au2bs"])
        self.space = {name: list(values) for name, values in self.meta["grid"].items()}
        frame = table.to_pandas()
        self.epochs = int(frame["epoch"].max()) if max_epochs is None else max_epochs
        frame = frame[frame["epoch"] <= self.epochs]
        self.curves = {}
        for config_id, rows in frame.groupby("config_id"):
            rows = rows.sort_values("epoch")
            key = tuple(rows.iloc[0][name].item() for name in self.space)
            self.curves[key] = {
                "config_id": int(config_id),
                "val_mse": rows["val_mse"].tolist(),
                "seconds": rows["seconds"].tolist(),
                "diverged": rows["diverged"].tolist(),
            }
        finite = frame["val_mse"][np.isfinite(frame["val_mse"])]
        self.best = float(finite.min())

    def key(self, config: dict) -> tuple:
        return tuple(config[name] for name in self.space)


def replay_trial(config: dict, grid: Grid, time_scale: float) -> None:
    """A trial that reports its configuration's recorded curve instead of training."""
    curve = grid.curves[grid.key(config)]
    for index in range(len(curve["val_mse"])):
        time.sleep(curve["seconds"][index] * time_scale)
        ray_tune.report(
            {
                METRIC: curve["val_mse"][index],
                "epoch": index + 1,
                "diverged": bool(curve["diverged"][index]),
                "config_id": curve["config_id"],
            }
        )
        if curve["diverged"][index]:
            return


# bench/ is on the driver's path only: Ray's workers get this module's trial and grid by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])
