"""ASHA + Optuna against FIFO + random search: same architecture, samples, epochs.

Runs both searches one after the other in this process (same machine, same
data, same seed), for each seed, and prints epochs consumed, wall time, best
validation MSE and the research configuration's validation MSE of each, then
the spread of the ratios over seeds:

    python bench/hpo.py                         # grunet0.3, the default budget, seeds 0, 1, 2
    python bench/hpo.py --arch grunet0.5 --num-samples 16 --max-epochs 9 --seeds 0

Real training: a few minutes per seed. bench/hpo_replay.py compares the
strategies on many seeds from recorded curves.

Target: ASHA + Optuna uses at most 40 % of the epochs of FIFO + random and
reaches a best validation MSE within 10 % of it (or better).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from tune.run import main as tune_main
from tune.runfolder.layout import SUMMARY_FILE, TRIALS_FILE


def run_search(storage: Path, name: str, common: list[str], scheduler: str, search: str) -> dict:
    code = tune_main(
        [*common, "--scheduler", scheduler, "--search", search, "--storage", str(storage), "--name", name]
    )
    if code != 0:
        raise SystemExit(f"{name}: tune.run exited with {code}")
    summary = json.loads((storage / name / SUMMARY_FILE).read_text())
    trials = pd.read_parquet(storage / name / TRIALS_FILE)
    return {
        "epochs": int(trials["epochs"].sum()),
        "wall_s": summary["wall_seconds"],
        "best_mse": summary["best"]["val_mse"],
        "research_mse": summary["research_config"]["val_mse"],
        "stopped_early": int((trials["status"] == "stopped early (ASHA)").sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", default="grunet0.3")
    parser.add_argument("--num-samples", default="12")
    parser.add_argument("--max-epochs", default="9")
    parser.add_argument("--train-fraction", default="0.25")
    parser.add_argument(
        "--seeds", default="0,1,2", help="comma-separated search seeds (default: %(default)s)"
    )
    parser.add_argument("--reduction-factor", help="ASHA's (default: tune.run's)")
    parser.add_argument("--data", help="dataset (default: the built-in synthetic dataset)")
    args = parser.parse_args()
    common = ["--arch", args.arch, "--num-samples", args.num_samples, "--max-epochs", args.max_epochs]
    common += ["--train-fraction", args.train_fraction]
    common += ["--data", args.data] if args.data else []
    common += ["--reduction-factor", args.reduction_factor] if args.reduction_factor else []

    ratios, gaps = [], []
    for seed in [s.strip() for s in args.seeds.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            storage = Path(tmp)
            asha = run_search(storage, "asha-optuna", [*common, "--seed", seed], "asha", "optuna")
            fifo = run_search(storage, "fifo-random", [*common, "--seed", seed], "fifo", "random")
        print(f"\n{args.arch}: {args.num_samples} trials, up to {args.max_epochs} epochs each, seed {seed}")
        print(f"{'':<30}{'ASHA + Optuna':>16}{'FIFO + random':>16}")
        print(f"{'epochs consumed':<30}{asha['epochs']:>16d}{fifo['epochs']:>16d}")
        print(f"{'trials stopped early':<30}{asha['stopped_early']:>16d}{fifo['stopped_early']:>16d}")
        print(f"{'wall time (s)':<30}{asha['wall_s']:>16.0f}{fifo['wall_s']:>16.0f}")
        print(f"{'best validation MSE':<30}{asha['best_mse']:>16.6f}{fifo['best_mse']:>16.6f}")
        print(f"{'research config val. MSE':<30}{asha['research_mse']:>16.6f}{fifo['research_mse']:>16.6f}")
        ratios.append(asha["epochs"] / fifo["epochs"])
        gaps.append((asha["best_mse"] - fifo["best_mse"]) / fifo["best_mse"])
        print(f"epochs ratio {ratios[-1]:.0%}; best MSE {gaps[-1]:+.1%} against FIFO + random")
    print(
        f"\nover {len(ratios)} seeds: epochs ratio {min(ratios):.0%} .. {max(ratios):.0%} "
        f"(mean {sum(ratios) / len(ratios):.0%}; target <= 40 %); best MSE against FIFO + random "
        f"{min(gaps):+.1%} .. {max(gaps):+.1%} (mean {sum(gaps) / len(gaps):+.1%}; target <= +10 %)"
    )


if __name__ == "__main__":
    main()
