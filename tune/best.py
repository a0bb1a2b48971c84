"""python -m tune.best RUN: what a search found, without starting Ray.

Prints the top trials and the best configuration and checkpoint; optionally
evaluates that checkpoint on the test split, exports its predictions as
Live Link Face CSVs, draws plots, or prints it all as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from au2bs.constants import NUM_LIVELINK
from au2bs.errors import InputError
from tune.inspect_run import Run, open_run
from tune.results import no_best_reason
from tune.table import text_table
from tune.trainable import CHECKPOINT_FILE, METRIC


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tune.best", description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="run folder (./runs/<name>) or storage URI (s3://bucket/runs/<name>)")
    p.add_argument("--top", type=int, default=10, help="trials to list (default: %(default)s)")
    p.add_argument(
        "--evaluate",
        action="store_true",
        help="test-split metrics of the best checkpoint and its ten worst channels",
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        help="write the best model's test predictions (and the truth) as Live Link Face CSVs",
    )
    p.add_argument(
        "--plots",
        metavar="DIR",
        help="write PNG figures: learning curves, metric vs hyperparameters, importances, curves",
    )
    p.add_argument("--json", action="store_true", help="print everything as JSON instead of tables")
    p.add_argument(
        "--checkpoint-only",
        action="store_true",
        help="print only the best checkpoint's local folder (for scripts; fetched first for a run behind a URI)",
    )
    return p


def _config_columns(trials: pd.DataFrame) -> list[str]:
    return [c for c in trials.columns if c.startswith("config/")]


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def trials_table(run: Run, top: int) -> str:
    trials = run.trials.head(top)
    columns = _config_columns(trials)
    header = [
        "rank",
        "trial",
        *[c.split("/", 1)[1] for c in columns],
        "val MSE",
        "val R2",
        "best ep",
        "epochs",
        "ended",
    ]
    rows = [header]
    for rank, (_, trial) in enumerate(trials.iterrows(), start=1):
        mse = trial[f"best/{METRIC}"]
        rows.append(
            [
                str(rank),
                trial["trial_id"] + (" (research)" if trial["research_config"] else ""),
                *[_format_value(trial[c]) for c in columns],
                f"{mse:.6f}" if math.isfinite(mse) else "inf",
                "-" if pd.isna(trial["best/val_r2"]) else f"{trial['best/val_r2']:.3f}",
                "-" if pd.isna(trial["best_epoch"]) else str(int(trial["best_epoch"])),
                str(trial["epochs"]),
                trial["status"],
            ]
        )
    return text_table(rows)


def best_checkpoint_file(run: Run) -> Path:
    """The best checkpoint's file, fetched into a local cache when the run lies behind a URI;
    InputError when there is none or it is gone."""
    if not run.has_result:
        raise InputError(no_best_reason(run.trials), run.path)
    folder = run.best["best_checkpoint"]
    if "://" in folder:
        return _fetched(f"{folder.rstrip('/')}/{CHECKPOINT_FILE}")
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        raise InputError("the best trial's checkpoint is missing on disk", path)
    return path


def _fetched(uri: str) -> Path:
    """A copy of the file at `uri` in the au2bs cache (checkpoints never change once written)."""
    import hashlib

    import pyarrow
    import pyarrow.fs as pafs

    from au2bs.data.default import cache_root

    local = cache_root() / "checkpoints" / hashlib.sha256(uri.encode()).hexdigest()[:16]
    path = local / CHECKPOINT_FILE
    if path.is_file():
        return path
    try:
        filesystem, inner = pafs.FileSystem.from_uri(uri)
        local.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with filesystem.open_input_stream(inner) as source, open(partial, "wb") as target:
            while chunk := source.read(1 << 22):
                target.write(chunk)
        partial.replace(path)  # whole or absent: never a half-fetched checkpoint
    except (OSError, pyarrow.ArrowException) as error:
        raise InputError(f"cannot fetch the best checkpoint: {error}", uri) from None
    return path


def summary_dict(run: Run) -> dict:
    best = run.best
    return {
        "run": run.path,
        "arch": run.options.arch,
        "finished": run.finished,
        "trials": json.loads(run.trials.to_json(orient="records")),
        "best": {
            "trial_id": best["trial_id"],
            "config": {c.split("/", 1)[1]: best[c] for c in _config_columns(run.trials)},
            "val_mse": best[f"best/{METRIC}"],
            "val_r2": best["best/val_r2"],
            "epoch": best["best_epoch"],
            "checkpoint": best["best_checkpoint"],
        },
    }


@dataclass(frozen=True)
class Evaluation:
    """The best checkpoint's model, run once over the test split."""

    model: object  # torch.nn.Module
    test: object  # au2bs.data.SplitArrays
    predictions: list[np.ndarray]  # (T_i, C) per test sequence
    metrics: dict  # au2bs.metrics.compute_metrics of those predictions


def evaluate_best(run: Run) -> Evaluation:
    """Loads the best checkpoint and predicts every test sequence once."""
    from au2bs.data import load_dataset
    from au2bs.metrics import compute_metrics
    from au2bs.train import load_checkpoint
    from au2bs.train.evaluate import model_from_checkpoint, predict_split

    path = best_checkpoint_file(run)
    try:
        state = load_checkpoint(path)
    except ValueError as error:  # truncated, empty or foreign: one line, not a traceback
        raise InputError(f"the best checkpoint is damaged: {str(error).splitlines()[0]}", path) from None
    dataset = state.get("provenance", {}).get("dataset")
    if not dataset or not Path(dataset).is_dir():
        raise InputError(f"the dataset the run trained on is not here ({dataset}); cannot evaluate")
    test = load_dataset(dataset, ("test",))["test"]
    model = model_from_checkpoint(state, weights="model")
    predictions = predict_split(model, test, "cpu")
    targets = [test.sequence(i)[1] for i in range(len(test))]
    return Evaluation(model, test, predictions, compute_metrics(predictions, targets))


def worst_channels(metrics: dict, count: int = 10) -> list[tuple[str, float, float | None]]:
    mse = metrics["per_channel"]["mse"]
    r2 = metrics["per_channel"]["r2"]
    return [(name, mse[name], r2[name]) for name in sorted(mse, key=mse.get, reverse=True)[:count]]


def export_predictions(predictions: list[np.ndarray], test, folder: Path) -> int:
    from au2bs.formats import write_livelink

    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(test.ids):
        predicted = np.zeros((len(predictions[index]), NUM_LIVELINK))
        predicted[:, : predictions[index].shape[1]] = predictions[index]
        safe = name.replace("#", "_part")
        write_livelink(folder / f"{safe}.predicted.csv", predicted)
        write_livelink(folder / f"{safe}.truth.csv", test.sequence(index)[1])
    return len(test.ids)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run = open_run(args.run)
        if args.checkpoint_only:
            print(best_checkpoint_file(run).parent)  # local: a run behind a URI has it fetched
            return 0
        if not run.has_result:
            raise InputError(no_best_reason(run.trials), run.path)
        report = summary_dict(run)
        evaluation = None
        if args.evaluate or args.export or args.plots:
            evaluation = evaluate_best(run)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if evaluation is not None:
        metrics, predictions, test = evaluation.metrics, evaluation.predictions, evaluation.test
        report["test"] = {
            key: metrics[key] for key in ("frames", "utterances", "activation_eps", "blendshapes", "all")
        }
        report["worst_channels"] = [{"channel": n, "mse": m, "r2": r} for n, m, r in worst_channels(metrics)]
        if args.export:
            report["exported"] = export_predictions(predictions, test, Path(args.export))
        if args.plots:
            from tune.plots import draw_all

            report["plots"] = [str(p) for p in draw_all(run, predictions, test, Path(args.plots))]
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    _print_report(run, report, args.top)
    return 0


def _print_report(run: Run, report: dict, top: int) -> None:
    state = "finished" if run.finished else "INTERRUPTED: inspected as far as it got"
    counts = run.trials["status"].value_counts().to_dict()
    print(
        f"{run.path}: {run.options.arch}, {len(run.trials)} trials ({state}); "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    moved = run.trials[run.trials["restarts"] > 0]
    if len(moved):
        print(
            f"{len(moved)} trials restarted from their last checkpoint (node failure or --resume): "
            + ", ".join(f"{t.trial_id} ({t.nodes})" for t in moved.itertuples())
        )
    print(trials_table(run, top))
    best = report["best"]
    print(f"\nbest: trial {best['trial_id']} at epoch {best['epoch']}, validation MSE {best['val_mse']:.6f}")
    print("  " + ", ".join(f"{k}={_format_value(v)}" for k, v in best["config"].items()))
    print(f"  checkpoint {best['checkpoint']}")
    if "test" in report:
        from au2bs.train.report import format_metrics

        print("\ntest split, best checkpoint:")
        print(format_metrics(report["test"]))
        print("ten worst channels (test MSE, R2):")
        for item in report["worst_channels"]:
            r2 = "-" if item["r2"] is None else f"{item['r2']:.3f}"
            print(f"  {item['channel']:<22}{item['mse']:.6f}  {r2}")
    if "exported" in report:
        print(f"exported {report['exported']} test utterances (predicted + truth) as Live Link Face CSVs")
    for plot in report.get("plots", []):
        print(f"plot: {plot}")


if __name__ == "__main__":
    sys.exit(main())
