"""python -m tune.best RUN: what a search found, without starting Ray.

Prints the top trials and the best configuration and checkpoint; optionally
evaluates that checkpoint on the test split (against the dataset's oracle
when it has one), exports its predictions as Live Link Face CSVs, draws
plots, or prints it all as JSON. `--export` and `--plots` alone print only
what they wrote.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from au2bs import cli
from au2bs.errors import InputError
from au2bs.train.checkpoint_eval import CheckpointEvaluation, evaluate_checkpoint, export_livelink
from tune.report.oracle import EVALUATED_SPLIT, against_oracle, dataset_oracle, oracle_lines, worst_channels
from tune.report.table import text_table
from tune.runfolder.layout import best_column, config_columns, param_of
from tune.runfolder.run import Run, open_run
from tune.runfolder.summary import best_entry, no_best_reason


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tune.best", description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="run folder (./runs/<name>) or storage URI (s3://bucket/runs/<name>)")
    p.add_argument("--top", type=int, default=10, help="trials to list (default: %(default)s)")
    p.add_argument(
        "--evaluate",
        action="store_true",
        help="test-split metrics of the best checkpoint, against the dataset's oracle when it has one, "
        "and its ten worst channels",
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        help="write the best model's test predictions (and the truth) as Live Link Face CSVs "
        "(alone: prints only where)",
    )
    p.add_argument(
        "--plots",
        metavar="DIR",
        help="write PNG figures: learning curves, metric vs hyperparameters, importances, curves "
        "(alone: prints only where)",
    )
    p.add_argument("--json", action="store_true", help="print everything as JSON instead of tables")
    p.add_argument(
        "--checkpoint-only",
        action="store_true",
        help="print only the best checkpoint's local folder (for scripts; fetched first for a run behind a URI)",
    )
    return p


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def trials_table(run: Run, top: int) -> str:
    trials = run.trials.head(top)
    columns = config_columns(trials.columns)
    header = [
        "rank",
        "trial",
        *[param_of(c) for c in columns],
        "val MSE",
        "val R2",
        "best ep",
        "epochs",
        "ended",
    ]
    rows = [header]
    for rank, (_, trial) in enumerate(trials.iterrows(), start=1):
        mse = trial[best_column()]
        rows.append(
            [
                str(rank),
                trial["trial_id"] + (" (research)" if trial["research_config"] else ""),
                *[_format_value(trial[c]) for c in columns],
                f"{mse:.6f}" if math.isfinite(mse) else "inf",
                "-" if pd.isna(trial[best_column("val_r2")]) else f"{trial[best_column('val_r2')]:.3f}",
                "-" if pd.isna(trial["best_epoch"]) else str(int(trial["best_epoch"])),
                str(trial["epochs"]),
                trial["status"],
            ]
        )
    return text_table(rows)


def summary_dict(run: Run) -> dict:
    """The run as `--json` prints it: its trials, and its best trial as summary.json describes it."""
    return {
        "run": run.path,
        "arch": run.options.plan.arch,
        "finished": run.finished,
        "trials": json.loads(run.trials.to_json(orient="records")),
        "best": best_entry(run.best, run.trials.columns),
    }


def evaluate_best(run: Run) -> CheckpointEvaluation:
    """The best checkpoint run once over the test split; InputError when it is damaged or missing."""
    return evaluate_checkpoint(run.best_checkpoint_file(), EVALUATED_SPLIT)


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(_parser(), _inspect, argv)


def _inspect(args: argparse.Namespace) -> int:
    run = open_run(args.run)
    if args.checkpoint_only:
        print(run.best_checkpoint_file().parent)  # local: a run behind a URI has it fetched
        return 0
    if not run.has_result:
        raise InputError(no_best_reason(run.trials), run.path)
    report = summary_dict(run)
    evaluation = evaluate_best(run) if args.evaluate or args.export or args.plots else None
    if evaluation is not None:
        metrics = evaluation.metrics
        report["test"] = {
            key: metrics[key] for key in ("frames", "utterances", "activation_eps", "blendshapes", "all")
        }
        report["oracle"] = against_oracle(metrics, dataset_oracle(evaluation.dataset, EVALUATED_SPLIT))
        report["worst_channels"] = [{"channel": n, "mse": m, "r2": r} for n, m, r in worst_channels(metrics)]
        if args.export:
            report["exported"] = export_livelink(evaluation, Path(args.export))
        if args.plots:
            from tune.report.plots import draw_all

            report["plots"] = [
                str(p) for p in draw_all(run, evaluation.predictions, evaluation.split, Path(args.plots))
            ]
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    if args.evaluate or not (args.export or args.plots):
        _print_report(run, report, args.top)
    _print_written(report, args.export)
    return 0


def _print_report(run: Run, report: dict, top: int) -> None:
    state = "finished" if run.finished else "INTERRUPTED: inspected as far as it got"
    counts = run.trials["status"].value_counts().to_dict()
    print(
        f"{run.path}: {run.options.plan.arch}, {len(run.trials)} trials ({state}); "
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
        if report["oracle"] is not None:
            print(oracle_lines(report["oracle"]))
        print("ten worst channels (test MSE, R2):")
        for item in report["worst_channels"]:
            r2 = "-" if item["r2"] is None else f"{item['r2']:.3f}"
            print(f"  {item['channel']:<22}{item['mse']:.6f}  {r2}")


def _print_written(report: dict, export: str | None) -> None:
    if "exported" in report:
        print(
            f"exported {report['exported']} {EVALUATED_SPLIT} sequences (predicted + truth) "
            f"as Live Link Face CSVs to {export}"
        )
    for plot in report.get("plots", []):
        print(f"plot: {plot}")


if __name__ == "__main__":
    sys.exit(main())
