"""The search on a real multi-node Ray cluster on this machine: a CPU head and two GPU workers.

`ray.cluster_utils.Cluster` starts separate raylets and object stores, one per
node; the GPUs are fake (declared, not present), so trials train on the CPU
while Ray schedules them as GPU trials. Run these alone: `pytest -m multinode -s`
(-s shows the node-kill timeline and the object-store figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest
from multinode_helpers import KillWhenMidway, ObjectStoreWatcher, shared_bytes
from tune_helpers import small_dataset, trial_results

from tune.best import main as best_main
from tune.run import main

pytestmark = [pytest.mark.slow, pytest.mark.multinode]

# Half a fake GPU and one CPU per trial: two trials fit on each worker node.
TRIAL_RESOURCES = ["--gpus-per-trial", "0.5", "--cpus-per-trial", "1"]
WORKER = {"num_cpus": 2, "num_gpus": 1, "object_store_memory": 100 * 2**20}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("multinode"), count=16, frames=400)


def _head_only():
    from ray.cluster_utils import Cluster

    # The head runs the driver only, as in cluster.yaml: no CPU, no GPU for trials.
    return Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "num_gpus": 0, "include_dashboard": False},
    )


@pytest.fixture
def cluster(monkeypatch):
    # Notice a dead node in seconds rather than a minute (read by the GCS at start).
    for name, value in {
        "RAY_health_check_period_ms": "1000",
        "RAY_health_check_timeout_ms": "1000",
        "RAY_health_check_failure_threshold": "3",
        "RAY_health_check_initial_delay_ms": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    cluster = _head_only()
    try:
        cluster.add_node(**WORKER)
        cluster.add_node(**WORKER)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


def _search_args(dataset, cluster, storage, name, samples, epochs, arch="grunet0.3") -> list[str]:
    return [
        "--arch", arch, "--data", str(dataset), "--num-samples", str(samples),
        "--max-epochs", str(epochs), "--scheduler", "fifo", "--train-fraction", "1",
        *TRIAL_RESOURCES, "--address", cluster.address, "--storage", str(storage), "--name", name,
    ]  # fmt: skip


def _gpu_placements(cluster, state: str) -> int:
    """Placement groups in `state` that ask for a share of a GPU, as Ray's GCS reports them (Tune
    makes one per trial)."""
    groups = cluster.global_state.placement_group_table().values()
    return sum(
        g["state"] == state and any(b.get("GPU", 0) > 0 for b in g["bundles"].values()) for g in groups
    )


def _overlap(rows_a: list[dict], rows_b: list[dict]) -> bool:
    return (
        rows_a[0]["started_at"] < rows_b[-1]["reported_at"]
        and rows_b[0]["started_at"] < rows_a[-1]["reported_at"]
    )


def test_trials_spread_over_nodes_and_each_node_holds_one_copy_of_the_data(dataset, cluster, tmp_path):
    workers = list(cluster.worker_nodes)
    watcher = ObjectStoreWatcher([cluster.head_node, *workers])
    watcher.start()
    try:
        # grunet0.6's slow epochs keep both trials of a node running at the same time.
        args = _search_args(dataset, cluster, tmp_path, "spread", samples=4, epochs=4, arch="grunet0.6")
        assert main(args) == 0
    finally:
        watcher.stop()

    by_node: dict[str, list[list[dict]]] = {}
    for rows in trial_results(tmp_path / "spread").values():
        assert {row["node_id"] for row in rows} == {rows[0]["node_id"]}, "a healthy trial stays on its node"
        by_node.setdefault(rows[0]["node_id"], []).append(rows)
    worker_ids = {node.node_id for node in workers}
    assert set(by_node) == worker_ids, "trials ran on both worker nodes and never on the head"
    for trials in by_node.values():
        assert len(trials) == 2 and _overlap(*trials), "two trials at once on each node's GPU"
        assert all(rows[0]["gpu_ids"] == "0" for rows in trials)

    copy = shared_bytes(dataset)
    print(f"\ndataset in the object store: {copy / 2**20:.2f} MiB; 4 trials, 2 per worker node")
    for node in [cluster.head_node, *workers]:
        role = "head (driver put it)" if node is cluster.head_node else "worker, 2 trials"
        peak = watcher.peak_bytes[node.node_id]
        print(f"  {role:<22} peak {peak / 2**20:6.2f} MiB = {peak / copy:.2f} copies")
    for node in [cluster.head_node, *workers]:
        # One copy per node: at least the data, well short of a second copy.
        assert 0.95 * copy <= watcher.peak_bytes[node.node_id] < 1.5 * copy, watcher.peak_bytes
    trials = pd.read_parquet(tmp_path / "spread" / "trials.parquet")
    assert sorted(trials["nodes"]) == sorted(n[:8] for n in worker_ids for _ in range(2))


def test_killed_worker_node_its_trials_resume_elsewhere_from_their_checkpoints(
    dataset, cluster, tmp_path, capsys
):
    name, samples, epochs = "killed", 4, 10
    run = tmp_path / name
    victim, survivor = sorted(cluster.worker_nodes, key=lambda node: node.node_id)
    killer = KillWhenMidway(cluster, victim, run, samples, epochs, timeout_s=180)
    killer.start()
    started = time.time()
    # grunet0.6 steps through frames in Python: epochs last long enough for the
    # kill to land between two of them.
    code = main(_search_args(dataset, cluster, tmp_path, name, samples, epochs, arch="grunet0.6"))
    killer.join()
    assert killer.error is None, killer.error
    assert code == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["placement"] == "trials ran on 2 nodes; 2 restarted from a checkpoint, 2 failures"

    results = trial_results(run)
    on_victim = {t for t, row in killer.snapshot.items() if row["node_id"] == victim.node_id}
    assert len(on_victim) == 2, "two trials were running on the killed node"
    _print_timeline(results, killer, victim, started)

    # Nothing lost, nothing duplicated: every trial finished, once, in the table and the study.
    assert len(results) == samples
    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == samples and trials["trial_id"].is_unique
    assert set(trials["status"]) == {"completed"} and (trials["epochs"] == epochs).all()
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{run / 'optuna.db'}")
    assert len(study.trials) == samples
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}

    for trial, rows in results.items():
        if trial not in on_victim:
            assert [row["epoch"] for row in rows] == list(range(1, epochs + 1)), trial
            continue
        before = [row["epoch"] for row in rows if row["node_id"] == victim.node_id]
        after = [row for row in rows if row["node_id"] != victim.node_id]
        resumed_from = after[0]["resumed_from"]
        assert before == list(range(1, len(before) + 1)) and len(before) >= killer.snapshot[trial]["epoch"]
        # Continued from its last checkpoint, not from epoch 0. Ray Tune logs a
        # result before it fetches the checkpoint of the same report, so a node
        # that dies in between costs that one epoch again; never more.
        assert 1 <= resumed_from and len(before) - 1 <= resumed_from <= len(before), (before, resumed_from)
        assert [row["epoch"] for row in after] == list(range(resumed_from + 1, epochs + 1))
        assert {row["node_id"] for row in after} == {survivor.node_id}
    moved = trials[trials["restarts"] > 0]
    assert len(moved) == len(on_victim) and (moved["failures"] == 1).all()
    assert all(nodes == f"{victim.node_id[:8]}>{survivor.node_id[:8]}" for nodes in moved["nodes"])
    timeline = capsys.readouterr().out
    assert best_main([str(run)]) == 0
    assert "2 trials restarted from their last checkpoint" in capsys.readouterr().out
    print(timeline)  # shown with -s


def _print_timeline(results, killer, victim, started) -> None:
    print(f"\nnode {victim.node_id[:8]} killed at t = {killer.killed_at - started:.1f} s")
    for trial, rows in sorted(results.items()):
        runs: dict[float, list[dict]] = {}
        for row in rows:
            runs.setdefault(row["started_at"], []).append(row)
        parts = [
            f"node {group[0]['node_id'][:8]} from t = {start - started:.1f} s: epochs "
            f"{group[0]['epoch']}-{group[-1]['epoch']} (resumed from epoch {group[0]['resumed_from']}), "
            f"first result at t = {group[0]['reported_at'] - started:.1f} s, last at t = {group[-1]['reported_at'] - started:.1f} s"
            for start, group in sorted(runs.items())
        ]
        print(f"  {trial[:30]}: " + "; ".join(parts))


def test_gpu_trials_wait_for_gpu_nodes_that_join_after_the_search_starts(dataset, tmp_path):
    """cluster.yaml starts with the head alone; the autoscaler adds GPU workers on demand."""
    cluster, driver = _head_only(), None
    try:
        args = _search_args(dataset, cluster, tmp_path, "grows", samples=2, epochs=1)
        # The README's command on a cluster node: Ray finds the cluster it belongs to.
        args[args.index(cluster.address)] = "auto"
        log = tmp_path / "driver.log"
        with open(log, "w") as output:
            # A driver process of its own: nodes join from this (main) thread meanwhile.
            driver = subprocess.Popen(
                [sys.executable, "-m", "tune.run", *args, "--max-concurrent", "2"],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        # Until Ray reports a trial waiting: a GPU placement it cannot make on the GPU-less cluster.
        deadline = time.monotonic() + 120
        while (
            not _gpu_placements(cluster, "PENDING") and driver.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert driver.poll() is None, log.read_text()[-3000:]
        assert _gpu_placements(cluster, "PENDING"), "no trial asked for a GPU:\n" + log.read_text()[-3000:]
        joined_at = time.time()
        cluster.add_node(**WORKER)
        code = driver.wait(timeout=240)
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
        cluster.shutdown()
    printed = log.read_text()
    assert code == 0, printed[-3000:]
    assert "the Ray cluster has no GPU now: trials wait until GPU nodes join" in printed
    rows = trial_results(tmp_path / "grows")
    assert len(rows) == 2
    assert all(r[0]["started_at"] > joined_at and r[0]["gpu_ids"] == "0" for r in rows.values())


def test_retries_are_bounded_by_max_failures(dataset, cluster, tmp_path, capsys):
    """With --max-failures 0 the dead node's trials end errored; the search finishes the rest."""
    name, samples, epochs = "no-retry", 4, 10
    run = tmp_path / name
    victim = sorted(cluster.worker_nodes, key=lambda node: node.node_id)[0]
    killer = KillWhenMidway(cluster, victim, run, samples, epochs, timeout_s=180)
    killer.start()
    args = _search_args(dataset, cluster, tmp_path, name, samples, epochs, arch="grunet0.6")
    code = main([*args, "--max-failures", "0"])
    killer.join()
    assert killer.error is None, killer.error
    assert code == 0, "some trials completed, so the search succeeded"

    on_victim = {row["trial_id"] for row in killer.snapshot.values() if row["node_id"] == victim.node_id}
    trials = pd.read_parquet(run / "trials.parquet").set_index("trial_id")
    assert len(on_victim) == 2 and len(trials) == samples
    assert set(trials.loc[list(on_victim), "status"]) == {"errored"}
    assert list(trials.loc[list(on_victim), "failures"]) == [1, 1]
    assert set(trials.drop(index=list(on_victim))["status"]) == {"completed"}
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{run / 'optuna.db'}")
    states = sorted(t.state.name for t in study.trials)
    assert states == ["COMPLETE", "COMPLETE", "FAIL", "FAIL"]
    capsys.readouterr()
    assert best_main([str(run)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "(finished)" in header and "2 completed" in header and "2 errored" in header
