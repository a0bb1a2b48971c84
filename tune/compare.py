"""python -m tune.compare RUN...: a leaderboard of architectures across searches.

For each run: the architecture, whether it is causal (usable frame by frame
live), its best validation and test MSE and R2, parameters, epochs to the
best checkpoint, search wall time, and inference speed on this machine's
CPU: frames per second over a 10 s utterance, and for causal models the
cost of one live frame as `au2bs.live` pays it (one step of the streaming
predictor, its recurrent state carried).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from au2bs import cli
from au2bs.data.options import AuOptions
from au2bs.models import get_architecture
from au2bs.models.speed import FRAME_BUDGET_MS, utterance_fps
from au2bs.stream import StreamingPredictor, streaming_frame_ms
from tune.best import evaluate_best
from tune.report.table import text_table
from tune.runfolder.layout import best_column
from tune.runfolder.run import Run, open_run
from tune.runfolder.summary import read_summary


def leaderboard_row(run: Run) -> dict:
    spec = get_architecture(run.options.plan.arch)
    evaluation = evaluate_best(run)
    model, test = evaluation.model, evaluation.metrics
    fps = utterance_fps(model)
    frame_ms = streaming_frame_ms(StreamingPredictor(model, spec.name, AuOptions())) if spec.causal else None
    summary = read_summary(run.path)
    wall = summary.get("wall_seconds") if summary is not None else None
    best = run.best
    return {
        "arch": spec.name,
        "causal": spec.causal,
        "run": run.path,
        "val_mse": float(best[best_column()]),
        "val_r2": float(best[best_column("val_r2")]),
        "test_mse": test["blendshapes"]["mse"],
        "test_r2": test["blendshapes"]["r2"],
        "test_r2_per_channel": test["blendshapes"]["r2_per_channel"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "best_epoch": int(best["best_epoch"]),
        "search_wall_s": wall,
        "trials": len(run.trials),
        "inference_fps": fps,
        "frame_ms": frame_ms,
        # Live means frame by frame: only causal models can, and one frame must fit in 1/60 s.
        "live_60fps": bool(frame_ms is not None and frame_ms < FRAME_BUDGET_MS),
    }


def format_leaderboard(rows: list[dict]) -> str:
    header = [
        "#",
        "arch",
        "causal",
        "val MSE",
        "val R2",
        "test MSE",
        "test R2",
        "R2/ch",
        "params",
        "best ep",
        "search s",
        "fps",
        "ms/frame",
        "live 60fps",
    ]
    table = [header]
    for rank, row in enumerate(rows, start=1):
        table.append(
            [
                str(rank), row["arch"], "yes" if row["causal"] else "no", f"{row['val_mse']:.6f}", f"{row['val_r2']:.3f}",
                f"{row['test_mse']:.6f}", f"{row['test_r2']:.3f}", f"{row['test_r2_per_channel']:.3f}", f"{row['parameters']:,}",
                str(row["best_epoch"]), "-" if row["search_wall_s"] is None else f"{row['search_wall_s']:.0f}",
                f"{row['inference_fps']:,.0f}", "offline" if row["frame_ms"] is None else f"{row['frame_ms']:.2f}",
                "yes" if row["live_60fps"] else "no",
            ]
        )  # fmt: skip
    return text_table(table, right_from=2)


def bar_chart(rows: list[dict], folder: Path) -> Path:
    from tune.report.plots import plt, save  # matplotlib, files only

    folder.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(rows)), 4))
    names = [row["arch"] for row in rows]
    colors = ["tab:green" if row["causal"] else "tab:purple" for row in rows]
    axis.bar(names, [row["test_mse"] for row in rows], color=colors)
    axis.set_ylabel("test MSE (52 blendshapes)")
    axis.set_title("best checkpoint per architecture (green = causal, purple = whole utterance)")
    return save(figure, folder / "leaderboard.png")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tune.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs", nargs="+", help="run folders (or URIs) of tune.run, one per architecture or more"
    )
    parser.add_argument("--plots", metavar="DIR", help="also write a bar chart of test MSE per architecture")
    parser.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(_parser(), _compare, argv)


def _compare(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)  # per-frame latency as one live stream would see it
    rows = [leaderboard_row(open_run(path)) for path in args.runs]
    rows.sort(key=lambda row: math.inf if math.isnan(row["val_mse"]) else row["val_mse"])
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(format_leaderboard(rows))
        print(
            f"ranked by best validation MSE; 'live 60fps' = causal and one streamed frame (ms/frame) in under {FRAME_BUDGET_MS:.1f} ms on this CPU"
        )
    if args.plots:
        print(f"plot: {bar_chart(rows, Path(args.plots))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
