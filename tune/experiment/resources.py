"""What the search asks of the Ray cluster it runs on, and what to warn about first.

An autoscaling cluster (cluster.yaml) may have no worker yet when the search
starts: GPU trials then wait for the GPU nodes the autoscaler starts on their
demand, and it grows only as far as the waiting trials ask.
"""

from __future__ import annotations

import math
import sys

import ray

from tune.runfolder import storage
from tune.runfolder.settings import SearchOptions, TrialResources


def slots(resources: TrialResources, gpus_per_trial: float) -> int:
    """How many trials the cluster's resources hold at once."""
    available = ray.cluster_resources()
    by_cpu = math.floor(available.get("CPU", 1) / resources.cpus_per_trial)
    if gpus_per_trial > 0:
        by_gpu = math.floor(available.get("GPU", 0) / gpus_per_trial + 1e-9)
        return max(1, min(by_cpu, by_gpu))
    return max(1, by_cpu)


def plan_resources(options: SearchOptions) -> tuple[float | None, list[str]]:
    """GPUs per trial (None after an error is printed) and the warnings, printed too."""
    notes = []
    resources = options.resources
    joined = resources.address is not None
    cluster_gpus = ray.cluster_resources().get("GPU", 0)
    gpus_per_trial = resources.gpus_per_trial
    if gpus_per_trial is None:
        gpus_per_trial = 0.25 if cluster_gpus else 0.0
        if joined and not cluster_gpus:
            notes.append(
                "the Ray cluster has no GPU now, so trials use none; pass --gpus-per-trial to wait for GPU nodes"
            )
    elif gpus_per_trial > 0 and not cluster_gpus:
        if not joined:
            print(f"error: --gpus-per-trial {gpus_per_trial} but the Ray cluster has no GPU", file=sys.stderr)
            return None, notes
        notes.append(
            "the Ray cluster has no GPU now: trials wait until GPU nodes join (an autoscaling cluster such "
            "as cluster.yaml's starts them on demand; on a fixed cluster, add GPU nodes)"
        )
    if joined and resources.max_concurrent is None and slots(resources, gpus_per_trial) <= 1:
        notes.append(
            "--max-concurrent not given and the cluster holds one trial at most now, so one runs at a time; "
            "an autoscaling cluster grows only as far as the waiting trials ask: set --max-concurrent"
        )
    storage_note = _storage_note(options)
    if storage_note:
        notes.append(storage_note)
    for note in notes:
        print(f"WARNING: {note}", file=sys.stderr)
    return gpus_per_trial, notes


def _storage_note(options: SearchOptions) -> str | None:
    """Trials on other nodes write checkpoints there: a local path must be shared."""
    root = options.place.storage
    if storage.is_uri(root):
        return None
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    shared = "shared storage (NFS) mounted at the same path on every node, or a URI such as s3://bucket/runs"
    if nodes > 1:
        return f"the cluster has {nodes} nodes but --storage {root} is a local path: it must be {shared}"
    if options.resources.address is not None:
        return f"--storage {root} is a local path: if more nodes join this cluster, it must be {shared}"
    return None
