"""Records the learning curves that bench/hpo_replay.py replays.

Trains every configuration of a grid (every combination of a few values of
each hyperparameter) for a fixed number of epochs on the built-in dataset,
and writes every epoch's validation metrics and seconds to a small Parquet
table kept in the repository (bench/curves/<arch>.parquet):

    python bench/record_curves.py                      # grunet0.3, 48 configurations x 27 epochs
    python bench/record_curves.py --arch grunet0.5 --epochs 9

No Ray: plain au2bs training, one configuration per worker process, one
PyTorch thread each (as a tune.run trial with --cpus-per-trial 1). Finished
configurations are kept in <out>.parts/, so an interrupted recording goes on
where it stopped when started again with the same arguments.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CURVES = Path(__file__).resolve().parent / "curves"

# Each grid holds the research's configuration (hidden 128, dropout 0.1,
# batch 4, learning rate 1e-3), which tune.run evaluates first.
GRIDS = {
    "grunet0.3": {
        "hidden_size": [64, 128, 256],
        "dropout": [0.1, 0.4],
        "batch_size": [4, 16],
        "learning_rate": [3e-4, 1e-3, 3e-3, 1e-2],
    },
    "grunet0.5": {
        "hidden_size": [64, 128],
        "dropout": [0.1],
        "negrelu_weight": [0.01, 1.0],
        "batch_size": [4, 16],
        "learning_rate": [3e-4, 1e-3, 3e-3],
    },
}


def grid_configs(arch: str) -> list[dict]:
    grid = GRIDS[arch]
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def _train_one(job: tuple) -> dict:
    """One configuration, every epoch; runs in a worker process."""
    import torch

    from au2bs.data import load_dataset
    from au2bs.data.default import default_dataset
    from au2bs.train import DivergedError, TrainConfig, Trainer

    index, arch, config, epochs, fraction, data_seed = job
    torch.set_num_threads(1)
    splits = load_dataset(default_dataset(progress=False), ("train", "val"))
    train = splits["train"].subset(fraction, data_seed)
    seed = 1000 + index  # fixed per configuration: the recording is repeatable
    train_config = TrainConfig.for_architecture(arch, epochs=epochs, patience=None, seed=seed, **config)
    trainer = Trainer(train_config, train, splits["val"], "cpu")
    rows: list[dict] = []

    def record(epoch_record, _trainer) -> None:
        val = epoch_record.val
        rows.append(
            {
                "epoch": epoch_record.epoch,
                "val_mse": val["blendshapes/mse"],
                "val_r2": val["blendshapes/r2"],
                "val_mse_all": val["all/mse"],
                "train_loss": epoch_record.train_loss,
                "seconds": epoch_record.seconds,
                "diverged": False,
            }
        )

    start = time.perf_counter()
    try:
        trainer.run(callbacks=(record,))
    except DivergedError:
        # The replay reports inf from the diverged epoch on, as a real trial does.
        rows.append(
            {
                "epoch": len(rows) + 1,
                "val_mse": math.inf,
                "val_r2": -math.inf,
                "val_mse_all": math.inf,
                "train_loss": math.inf,
                "seconds": time.perf_counter() - start - sum(r["seconds"] for r in rows),
                "diverged": True,
            }
        )
    return {"config_id": index, "seed": seed, "config": config, "epochs": rows}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", default="grunet0.3", choices=sorted(GRIDS))
    parser.add_argument(
        "--epochs", type=int, default=27, help="epochs per configuration (default: %(default)s)"
    )
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=0.25,
        help="share of the training sequences, as tune.run's --train-fraction (default: %(default)s)",
    )
    parser.add_argument("--data-seed", type=int, default=0, help="seed of that share (tune.run's --seed 0)")
    parser.add_argument("--workers", type=int, default=2, help="configurations trained at once")
    parser.add_argument("--out", type=Path, help="Parquet file (default: bench/curves/<arch>.parquet)")
    args = parser.parse_args()
    out = args.out or CURVES / f"{args.arch}.parquet"
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)

    from au2bs.data.default import default_dataset

    default_dataset()  # generated once here, not by every worker at the same time
    configs = grid_configs(args.arch)
    done = {int(p.stem) for p in parts.glob("*.json")}
    jobs = [
        (i, args.arch, c, args.epochs, args.train_fraction, args.data_seed)
        for i, c in enumerate(configs)
        if i not in done
    ]
    print(
        f"{args.arch}: {len(configs)} configurations x {args.epochs} epochs, train fraction "
        f"{args.train_fraction}; {len(done)} already recorded, {len(jobs)} to train on {args.workers} workers",
        flush=True,
    )
    start = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for finished, result in enumerate(pool.imap_unordered(_train_one, jobs), start=1):
            (parts / f"{result['config_id']:03d}.json").write_text(json.dumps(result))
            elapsed = time.monotonic() - start
            best = min(r["val_mse"] for r in result["epochs"])
            eta = elapsed / finished * (len(jobs) - finished)
            print(
                f"  [{finished}/{len(jobs)}] config {result['config_id']:3d} {result['config']}: "
                f"best val MSE {best:.6f}, {elapsed:.0f} s elapsed, ETA {eta:.0f} s",
                flush=True,
            )
    table = _combine(parts, len(configs), args)
    tmp = out.with_suffix(".partial")
    pq.write_table(table, tmp)
    tmp.replace(out)
    print(
        f"wrote {out}: {table.num_rows} epochs of {len(configs)} configurations ({out.stat().st_size} bytes)"
    )
    return 0


def _combine(parts: Path, count: int, args) -> pa.Table:
    rows = []
    for index in range(count):
        result = json.loads((parts / f"{index:03d}.json").read_text())
        for epoch in result["epochs"]:
            rows.append({"config_id": index, **result["config"], "seed": result["seed"], **epoch})
    frame = pd.DataFrame(rows)
    import torch

    metadata = {
        "arch": args.arch,
        "epochs": args.epochs,
        "train_fraction": args.train_fraction,
        "data_seed": args.data_seed,
        "grid": GRIDS[args.arch],
        "torch": torch.__version__,
        "threads_per_configuration": 1,
        "recorded": time.strftime("%Y-%m-%d"),
    }
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), b"au2bs": json.dumps(metadata)})


if __name__ == "__main__":
    sys.exit(main())
