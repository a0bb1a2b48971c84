"""Memory of N concurrent trials: one shared dataset copy versus N private copies.

Each of N Ray tasks (running at the same time) receives the training and
validation splits exactly as search trials do (`tune.with_parameters` puts
them in the object store once), touches every byte, and measures its own
memory. In the "private" variant each task first copies the arrays, which
is what trials would do if each loaded its own dataset. Printed side by
side from one run:

    python bench/shared_memory.py            # the built-in synthetic dataset, N = 4
    python bench/shared_memory.py --trials 8 --data my-dataset
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402

from au2bs.data import load_dataset  # noqa: E402
from au2bs.data.default import default_dataset  # noqa: E402


@ray.remote(num_cpus=0)
def hold(data: dict, private: bool, seconds: float) -> dict:
    arrays = [a for split in data.values() for a in (split.x, split.y)]
    if private:
        arrays = [np.array(a) for a in arrays]  # a trial that loads its own copy
    checksum = float(sum(a.sum(dtype=np.float64) for a in arrays))  # touch every page
    time.sleep(seconds)  # stay alive while the others measure
    return {**own_memory(), "checksum": checksum, "writeable": any(a.flags.writeable for a in arrays)}


def own_memory() -> dict:
    """PSS (shared pages split among their users) and USS (private pages), in bytes (Linux)."""
    fields = {}
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1]) * 1024
    return {"pss": fields["Pss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"]}


def measure(data_ref, trials: int, private: bool) -> dict:
    results = ray.get([hold.remote(data_ref, private, 3.0) for _ in range(trials)])
    return {
        "pss_mb": sum(r["pss"] for r in results) / 1e6,
        "uss_mb": sum(r["uss"] for r in results) / 1e6,
        "writeable": results[0]["writeable"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="dataset folder (default: the built-in synthetic dataset)")
    parser.add_argument("--trials", type=int, default=4, help="concurrent trials (default: %(default)s)")
    args = parser.parse_args()
    dataset = args.data or default_dataset()
    splits = load_dataset(dataset, ("train", "val"))
    size = sum(a.nbytes for s in splits.values() for a in (s.x, s.y, s.offsets)) / 1e6

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        reference = ray.put(splits)  # what tune.with_parameters does
        ray.get(hold.remote(reference, False, 0.0))  # warm the worker pool
        shared = measure(reference, args.trials, private=False)
        private = measure(reference, args.trials, private=True)
    finally:
        ray.shutdown()
    print(f"dataset (train + val): {size:.1f} MB; {args.trials} concurrent trial processes")
    print(f"{'':<28}{'shared (object store)':>24}{'private copies':>18}")
    print(f"{'sum of PSS (MB)':<28}{shared['pss_mb']:>24.1f}{private['pss_mb']:>18.1f}")
    print(f"{'sum of USS (MB)':<28}{shared['uss_mb']:>24.1f}{private['uss_mb']:>18.1f}")
    print(f"{'arrays writeable in trial':<28}{str(shared['writeable']):>24}{str(private['writeable']):>18}")
    print(
        f"private - shared, per trial: {(private['uss_mb'] - shared['uss_mb']) / args.trials:.1f} MB "
        f"(dataset {size:.1f} MB): each private trial holds its own copy; shared trials map one"
    )


if __name__ == "__main__":
    main()
