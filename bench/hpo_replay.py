"""Search strategies compared on many seeds, by replaying recorded learning curves.

The real Ray Tune loop, with the searcher and scheduler objects tune.run
builds (tune.experiment.strategy), over the grid bench/record_curves.py
recorded. Each trial reads its configuration's recorded curve instead of
training, and reports epoch after epoch in scaled time (the recorded epoch
seconds times --time-scale), so concurrency and finish order stay realistic:

    python bench/hpo_replay.py                       # 5 strategies x 30 seeds x 2 and 8 concurrent trials
    python bench/hpo_replay.py --seeds 5 --concurrency 2 --strategies tpe-asha

Prints, per strategy and concurrency, the epochs used until the best so far
reaches (a) random + FIFO's median final best and (b) within 5 % of the
grid's best (median and quartiles over seeds), and the regret at equal
epochs; draws the anytime curves (best so far against epochs used, median
and quartile band) to a PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from tune.experiment.environment import configure

# tune.run's Ray settings; a local Ray without a token, and no experiment-state snapshots the replay never reads.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1000000")
configure()

import ray  # noqa: E402
from ray import tune as ray_tune  # noqa: E402
from replay import Grid, replay_trial  # noqa: E402  (bench/replay.py, beside this script)

from tune.experiment.optuna_bridge import NumberedOptunaSearch, TruthfulOptunaSearch  # noqa: E402
from tune.experiment.strategy import TPE_STARTUP_TRIALS, optuna_settings, tune_config  # noqa: E402
from tune.flags import parser as run_parser  # noqa: E402
from tune.flags import resolve  # noqa: E402
from tune.runfolder.layout import METRIC  # noqa: E402

HERE = Path(__file__).resolve().parent
CURVES = HERE / "curves" / "grunet0.3.parquet"


@dataclass(frozen=True)
class Strategy:
    label: str
    search: str  # tune.run --search
    scheduler: str  # tune.run --scheduler
    bridge: str  # "truthful": tune.run's searcher; "ray": Ray's OptunaSearch as shipped (numbered)


STRATEGIES = {
    "tpe-asha": Strategy("TPE + ASHA, truthful bridge", "optuna", "asha", "truthful"),
    "tpe-asha-ray": Strategy("TPE + ASHA, Ray's bridge", "optuna", "asha", "ray"),
    "random-asha": Strategy("random + ASHA", "random", "asha", "truthful"),
    "tpe-fifo": Strategy("TPE + FIFO", "optuna", "fifo", "truthful"),
    "random-fifo": Strategy("random + FIFO", "random", "fifo", "truthful"),
}


class _Trace(ray_tune.Callback):
    """Every result in the order the driver processed it: the search's anytime curve."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.values.append(float(result[METRIC]))


def run_one(grid: Grid, strategy: Strategy, seed: int, concurrency: int, args, storage: Path) -> np.ndarray:
    """One search; returns the best value so far after each epoch used."""
    flags = ["--arch", grid.meta["arch"], "--seed", str(seed), "--search", strategy.search]
    flags += ["--scheduler", strategy.scheduler, "--max-epochs", str(grid.epochs)]
    for flag in ("num_samples", "grace_period", "reduction_factor"):
        if getattr(args, flag) is not None:
            flags += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    name = f"{strategy.search}-{strategy.scheduler}-{strategy.bridge}-{concurrency}-{seed}"
    options = resolve(run_parser().parse_args(flags), grid.meta["arch"], name)
    settings = optuna_settings(options.plan, name, None, args.tpe_startup)
    searcher = (
        TruthfulOptunaSearch(max_epochs=options.plan.max_epochs, **settings)
        if strategy.bridge == "truthful"
        else NumberedOptunaSearch(**settings)
    )
    trace = _Trace()
    trainable = ray_tune.with_parameters(replay_trial, grid=grid, time_scale=args.time_scale)
    tuner = ray_tune.Tuner(
        ray_tune.with_resources(trainable, {"cpu": 1}),
        param_space={name: ray_tune.choice(values) for name, values in grid.space.items()},
        tune_config=replace(tune_config(options.plan, searcher, concurrency), reuse_actors=True),
        run_config=ray_tune.RunConfig(
            name=name, storage_path=str(storage), verbose=0, callbacks=[trace], log_to_file=False
        ),
    )
    results = tuner.fit()
    shutil.rmtree(storage / name, ignore_errors=True)
    if results.errors or not trace.values:
        raise RuntimeError(f"{name}: replay trials failed: {results.errors[:1]}")
    return np.minimum.accumulate(np.array(trace.values))


def epochs_to_reach(curve: np.ndarray, target: float) -> float:
    hit = np.nonzero(curve <= target)[0]
    return float(hit[0] + 1) if len(hit) else np.inf


def quartiles(values) -> tuple[float, float, float]:
    return tuple(float(v) for v in np.percentile(np.asarray(values, dtype=float), [25, 50, 75]))


def _fmt(value: float) -> str:
    return "never" if not np.isfinite(value) else f"{value:.0f}"


def report(runs: pd.DataFrame, grid: Grid, budget_epochs: int) -> tuple[str, pd.DataFrame]:
    """The table: per strategy and concurrency, epochs to each target and regret at equal epochs."""
    lines, rows = [], []
    for concurrency, group in runs.groupby("concurrency"):
        fifo = group[group["strategy"] == "random-fifo"]
        target_a = float(np.median([c[-1] for c in fifo["curve"]])) if len(fifo) else np.nan
        target_b = grid.best * 1.05
        checkpoints = [budget_epochs // 8, budget_epochs // 4, budget_epochs // 2, budget_epochs]
        lines.append(
            f"\n{concurrency} concurrent trials: (a) random + FIFO's median final best {target_a:.6f}; "
            f"(b) within 5 % of the grid's best {grid.best:.6f} = {target_b:.6f}; FIFO uses {budget_epochs} epochs"
        )
        lines.append(
            f"  {'strategy':<30}{'epochs to (a): q1 / median / q3':>34}{'% of FIFO':>11}"
            f"{'epochs to (b): q1 / median / q3':>34}   regret % at "
            + " / ".join(f"{c}" for c in checkpoints)
            + " epochs (median)"
        )
        for key, strategy in STRATEGIES.items():
            curves = group[group["strategy"] == key]["curve"].tolist()
            if not curves:
                continue
            to_a = [epochs_to_reach(c, target_a) for c in curves]
            to_b = [epochs_to_reach(c, target_b) for c in curves]
            regrets = [
                float(np.median([100 * (c[min(e, len(c)) - 1] - grid.best) / grid.best for c in curves]))
                for e in checkpoints
            ]
            qa, qb = quartiles(to_a), quartiles(to_b)
            rows.append(
                {
                    "concurrency": concurrency,
                    "strategy": key,
                    "seeds": len(curves),
                    "to_a": qa,
                    "to_b": qb,
                    "median_a_pct_of_fifo": 100 * qa[1] / budget_epochs,
                    "regret_pct": regrets,
                    "final_best_median": float(np.median([c[-1] for c in curves])),
                    "epochs_median": float(np.median([len(c) for c in curves])),
                }
            )
            lines.append(
                f"  {strategy.label:<30}{' / '.join(_fmt(v) for v in qa):>34}"
                f"{(f'{100 * qa[1] / budget_epochs:.0f} %' if np.isfinite(qa[1]) else 'never'):>11}"
                f"{' / '.join(_fmt(v) for v in qb):>34}   " + " / ".join(f"{r:.1f}" for r in regrets)
            )
    return "\n".join(lines), pd.DataFrame(rows)


def draw(runs: pd.DataFrame, grid: Grid, budget_epochs: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concurrencies = sorted(runs["concurrency"].unique())
    fig, axes = plt.subplots(1, len(concurrencies), figsize=(6.5 * len(concurrencies), 4.6), squeeze=False)
    x = np.arange(1, budget_epochs + 1)
    for ax, concurrency in zip(axes[0], concurrencies):
        group = runs[runs["concurrency"] == concurrency]
        for key, strategy in STRATEGIES.items():
            curves = group[group["strategy"] == key]["curve"].tolist()
            if not curves:
                continue
            # A search that ended keeps its final best for the rest of the axis.
            padded = np.array(
                [np.concatenate([c, np.full(budget_epochs - len(c), c[-1])])[:budget_epochs] for c in curves]
            )
            regret = 100 * (padded - grid.best) / grid.best
            q1, median, q3 = np.percentile(regret, [25, 50, 75], axis=0)
            (line,) = ax.plot(x, median, label=strategy.label)
            ax.fill_between(x, q1, q3, color=line.get_color(), alpha=0.15)
        ax.set_yscale("log")
        ax.set_xlabel("epochs used")
        ax.set_ylabel("best so far: % above the grid's best (log)")
        ax.set_title(f"{grid.meta['arch']} grid, {concurrency} concurrent trials, {len(curves)} seeds")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _shard(jobs: list[tuple], args: argparse.Namespace, cpus: int, results) -> None:
    """One worker process: its own local Ray, its share of the searches."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = Grid(args.curves, args.max_epochs)
    ray.init(
        address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False
    )
    try:
        with tempfile.TemporaryDirectory(prefix="hpo-replay-") as tmp:
            for key, concurrency, seed in jobs:
                curve = run_one(grid, STRATEGIES[key], seed, concurrency, args, Path(tmp))
                results.put({"strategy": key, "concurrency": concurrency, "seed": seed, "curve": curve})
    except BaseException as error:
        results.put({"error": repr(error)})
        raise
    finally:
        ray.shutdown()


def _run_sharded(jobs: list[tuple], args: argparse.Namespace, cpus: int) -> list[dict]:
    """The searches spread over --workers processes (each search is one driver loop, mostly waiting)."""
    import multiprocessing
    import queue

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_shard, args=(jobs[i :: args.workers], args, cpus, results))
        for i in range(min(args.workers, len(jobs)))
    ]
    for worker in workers:
        worker.start()
    rows, start = [], time.monotonic()
    while len(rows) < len(jobs):
        try:
            row = results.get(timeout=5)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                raise SystemExit("a replay worker died; see the output above") from None
            continue
        if "error" in row:
            raise SystemExit(f"a replay worker failed: {row['error']}")
        rows.append(row)
        elapsed = time.monotonic() - start
        eta = elapsed / len(rows) * (len(jobs) - len(rows))
        end = "\r" if sys.stdout.isatty() else "\n"
        if sys.stdout.isatty() or len(rows) % 25 == 0 or len(rows) == len(jobs):
            print(
                f"  {len(rows)}/{len(jobs)} searches, {elapsed:.0f} s, ETA {eta:.0f} s", end=end, flush=True
            )
    for worker in workers:
        worker.join()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--curves", type=Path, default=CURVES, help="table from record_curves.py (default: %(default)s)"
    )
    parser.add_argument("--seeds", type=int, default=30, help="searches per strategy and concurrency")
    parser.add_argument(
        "--concurrency", default="2,8", help="concurrent trials, comma-separated (default: %(default)s)"
    )
    parser.add_argument(
        "--strategies", default=",".join(STRATEGIES), help="comma-separated, of: " + ", ".join(STRATEGIES)
    )
    parser.add_argument("--num-samples", type=int, help="trials per search (default: tune.run's)")
    parser.add_argument(
        "--max-epochs", type=int, help="replay only the first N epochs (default: all recorded)"
    )
    parser.add_argument("--grace-period", type=int, help="ASHA's (default: tune.run's)")
    parser.add_argument("--reduction-factor", type=int, help="ASHA's (default: tune.run's)")
    parser.add_argument(
        "--tpe-startup",
        type=int,
        default=TPE_STARTUP_TRIALS,
        help="TPE's random trials first (default: tune.run's, %(default)s)",
    )
    parser.add_argument("--time-scale", type=float, default=0.003, help="replay seconds per recorded second")
    parser.add_argument(
        "--plot", type=Path, default=HERE / "hpo_replay.png", help="PNG of the anytime curves"
    )
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    parser.add_argument(
        "--workers", type=int, default=2, help="driver processes, each with its own local Ray"
    )
    args = parser.parse_args()

    grid = Grid(args.curves, args.max_epochs)
    start = time.monotonic()
    keys = [k.strip() for k in args.strategies.split(",")]
    unknown = [k for k in keys if k not in STRATEGIES]
    if unknown:
        parser.error(f"unknown strategies {unknown}; known: {', '.join(STRATEGIES)}")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    jobs = [
        (key, concurrency, seed)
        for concurrency in concurrencies
        for seed in range(args.seeds)
        for key in keys
    ]
    rows = _run_sharded(jobs, args, max(concurrencies))
    wall = time.monotonic() - start
    runs = pd.DataFrame(rows)
    num_samples = (
        args.num_samples
        or resolve(run_parser().parse_args(["--arch", grid.meta["arch"]]), grid.meta["arch"], "x").num_samples
    )
    budget = num_samples * grid.epochs
    text, table = report(runs, grid, budget)
    print(
        f"\n{grid.meta['arch']} grid: {len(grid.curves)} configurations x {grid.epochs} epochs "
        f"(train fraction {grid.meta['train_fraction']}); {num_samples} trials per search; "
        f"{len(jobs)} searches in {wall:.0f} s on {args.workers} driver processes"
    )
    print(text)
    draw(runs, grid, budget, args.plot)
    print(f"plot: {args.plot}")
    if args.json:
        args.json.write_text(table.to_json(orient="records", indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
