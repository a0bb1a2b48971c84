"""Object-store copies of the dataset on a multi-node cluster: one per node, or one per trial?

Starts a real Ray cluster of several nodes on this machine (a head that runs
the driver and N worker nodes with declared, fake GPUs), runs a real
`tune.run` search whose trials pack onto the workers' GPUs, samples every
node's object store while it runs, and prints each node's peak next to the
size of the data the search shares and the number of trials that ran there
at the same time:

    python bench/multinode_store.py                  # built-in dataset, 2 workers x 4 trials
    python bench/multinode_store.py --workers 3 --trials-per-worker 2 --data my-dataset
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

# The node sampler and result reader (bench/multinode_helpers.py, bench/run_results.py) are shared with the
# multi-node tests.

from multinode_helpers import ObjectStoreWatcher, shared_bytes  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from run_results import trial_results  # noqa: E402

from au2bs.data.default import default_dataset  # noqa: E402
from tune.run import main as tune_main  # noqa: E402


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="dataset folder (default: the built-in synthetic dataset)")
    parser.add_argument("--workers", type=int, default=2, help="worker nodes (default: %(default)s)")
    parser.add_argument(
        "--trials-per-worker",
        type=int,
        default=4,
        help="trials packed on each worker's GPU (default: %(default)s)",
    )
    parser.add_argument("--arch", default="grunet0.3", help="architecture searched (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per trial (default: %(default)s)")
    args = parser.parse_args()

    dataset = Path(args.data) if args.data else default_dataset()
    copy = shared_bytes(dataset)
    store = max(200 * 2**20, 3 * copy)
    per = args.trials_per_worker
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 0,
            "num_gpus": 0,
            "object_store_memory": store,
            "include_dashboard": False,
        },
    )
    try:
        for _ in range(args.workers):
            cluster.add_node(num_cpus=per, num_gpus=1, object_store_memory=store)
        cluster.wait_for_nodes()
        head, workers = cluster.head_node, sorted(cluster.worker_nodes, key=lambda node: node.node_id)
        watcher = ObjectStoreWatcher([head, *workers])
        with tempfile.TemporaryDirectory() as storage:
            watcher.start()
            started = time.monotonic()
            try:
                code = tune_main(
                    [
                        "--arch", args.arch, "--data", str(dataset), "--train-fraction", "1",
                        "--num-samples", str(per * args.workers), "--max-epochs", str(args.epochs),
                        "--scheduler", "fifo", "--cpus-per-trial", "1", "--gpus-per-trial", str(1 / per),
                        "--address", cluster.address, "--storage", storage, "--name", "store",
                    ]
                )  # fmt: skip
            finally:
                watcher.stop()
            wall = time.monotonic() - started
            results = trial_results(Path(storage) / "store")
    finally:
        cluster.shutdown()
    if code != 0:
        sys.exit(f"the search failed (exit {code})")

    by_node: dict[str, list[tuple[float, float]]] = {}
    for rows in results.values():
        by_node.setdefault(rows[0]["node_id"], []).append((rows[0]["started_at"], rows[-1]["reported_at"]))
    print(
        f"\n{dataset}: train + val = {copy / 2**20:.1f} MiB put once by the driver; "
        f"{len(results)} trials of {args.arch} on {args.workers} worker nodes, search {wall:.0f} s"
    )
    print(f"{'node':<10}{'role':<8}{'trials':>7}{'at once':>9}{'store peak MiB':>16}{'copies':>8}")
    total = 0
    for node in [head, *workers]:
        intervals = by_node.get(node.node_id, [])
        peak = watcher.peak_bytes[node.node_id]
        total += peak
        role = "head" if node is head else "worker"
        print(
            f"{node.node_id[:8]:<10}{role:<8}{len(intervals):>7}{most_at_once(intervals):>9}"
            f"{peak / 2**20:>16.1f}{peak / copy:>8.2f}"
        )
    print(
        f"all nodes: {total / 2**20:.1f} MiB = {total / copy:.2f} copies for {len(results)} trials "
        f"(one copy per trial would be {len(results)} plus the driver's)"
    )


if __name__ == "__main__":
    main()
