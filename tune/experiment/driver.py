"""One search from start to summary: the data, a private Ray, the run folder, the Tuner, the results.

`run_search` holds the steps in order; each step is a function of its own.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import ray

from au2bs.data import SplitArrays, load_dataset
from au2bs.data.default import choose_dataset
from tune.console.summary import format_summary
from tune.experiment import tuner as tuners
from tune.experiment.interrupts import Interrupts
from tune.experiment.library_output import library_output
from tune.experiment.resources import plan_resources, slots
from tune.experiment.strategy import asha_rungs
from tune.outcome import Outcome
from tune.runfolder import storage
from tune.runfolder.layout import CONFIG_FILE
from tune.runfolder.lock import RunLock
from tune.runfolder.settings import SearchOptions
from tune.runfolder.study import fetch_study, publish_study
from tune.runfolder.summary import resume_command, save_results, summarize
from tune.runfolder.trials import collect_trials


@dataclass
class SearchData:
    """What the trials train and validate on, and where it came from."""

    path: str
    provenance: dict
    train: SplitArrays  # the --train-fraction subset
    val: SplitArrays
    train_total: int  # training sequences before the subset

    @property
    def splits(self) -> dict[str, SplitArrays]:
        return {"train": self.train, "val": self.val}


def run_search(options: SearchOptions, resuming: bool, interrupts: Interrupts, verbose: bool = False) -> int:
    """One architecture's search, start to summary; returns the exit status.

    verbose: Ray's status table and Ray's and Optuna's log lines as well as the console's.
    """
    locks: list[RunLock] = []
    try:
        if resuming:
            # A second driver on this run is refused before it loads anything.
            locks.append(RunLock.resume(options.run_path))
            note = locks[0].took_over_note()
            if note:
                print(f"note: {note}", flush=True)
        with library_output(verbose):
            data = load_search_data(options)
            with private_ray(options, interrupts):
                return _search(options, data, resuming, interrupts, locks, verbose)
    finally:
        for lock in locks:
            lock.release()


def load_search_data(options: SearchOptions) -> SearchData:
    dataset = choose_dataset(options.plan.data)
    splits = load_dataset(dataset.path, ("train", "val"))
    return SearchData(
        path=str(dataset.path),
        provenance=dataset.provenance,
        train=splits["train"].subset(options.plan.train_fraction, options.plan.seed),
        val=splits["val"],
        train_total=len(splits["train"]),
    )


@contextmanager
def private_ray(options: SearchOptions, interrupts: Interrupts):
    """Ray for this search. Without --address: a private local Ray, never one a `ray start` left running here."""
    address = options.resources.address
    ray.init(
        address=address or "local",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        **({} if address else {"_node_ip_address": "127.0.0.1"}),
    )
    interrupts.install()  # ray.init sets its own SIGTERM handler
    try:
        yield
    finally:
        ray.shutdown()


def _search(
    options: SearchOptions,
    data: SearchData,
    resuming: bool,
    interrupts: Interrupts,
    locks: list[RunLock],
    verbose: bool,
) -> int:
    gpus_per_trial, notes = plan_resources(options)
    if gpus_per_trial is None:
        return 2
    if options.plan.train_fraction < 1:
        notes.append(
            f"trials trained on {len(data.train)} of {data.train_total} training sequences "
            f"(--train-fraction {options.plan.train_fraction}); validation used all {len(data.val)}"
        )
    max_concurrent = options.resources.max_concurrent or slots(options.resources, gpus_per_trial)
    console = tuners.make_console(options, verbose)
    print_plan(options, data, gpus_per_trial, max_concurrent, resuming)
    args = (options, data.splits, gpus_per_trial, data.provenance)
    if not resuming:
        locks.append(RunLock.new_run(options.run_path))  # the folder and its lock, in one step
        storage.write_bytes(storage.join(options.run_path, CONFIG_FILE), options.to_json().encode())
        tuner = tuners.new_tuner(*args, max_concurrent, console)
    else:
        fetch_study(options.run_path)
        tuner = tuners.restored_tuner(*args, console)
    start = time.monotonic()
    interrupts.searching = True
    try:
        tuner.fit()
    finally:
        console.close()  # a terminal's progress line ends before anything else prints
        interrupts.searching = False
        publish_study(options.run_path)  # finished or interrupted, the run folder holds its study
    return finish(options, time.monotonic() - start, notes, interrupts)


def finish(options: SearchOptions, wall_s: float, notes: list[str], interrupts: Interrupts) -> int:
    """The trials table and summary written, the summary printed; the exit status."""
    trials, _ = collect_trials(options.run_path, options)
    if trials.empty:
        print("error: no trial ran", file=sys.stderr)
        return interrupts.exit_code if interrupts.signum else 1
    interrupted = interrupts.name
    resume = resume_command(options.place.name, options.place.storage)
    summary = summarize(trials, options, wall_s, notes, interrupted, resume)
    save_results(trials, summary, options)
    print(format_summary(summary))
    if interrupted:
        return interrupts.exit_code
    if summary["best"] is None:
        print(f"error: {summary['no_best']}", file=sys.stderr)
        return 1
    return 0 if (trials["status"] != Outcome.ERRORED.value).any() else 1


def print_plan(options: SearchOptions, data: SearchData, gpus_per_trial, max_concurrent, resuming) -> None:
    plan, resources = options.plan, options.resources
    stopping = (
        f"ASHA on epochs: max_t {plan.max_epochs}, grace period {plan.grace_period}, "
        f"reduction factor {plan.reduction_factor}, rungs at epochs {asha_rungs(plan)}"
        if plan.scheduler == "asha"
        else f"FIFO: every trial runs {plan.max_epochs} epochs"
    )
    print(
        f"{'resuming' if resuming else 'search'} {options.place.name}: {plan.arch}, {plan.num_samples} trials, "
        f"{plan.search} search (seed {plan.seed}), research configuration first\n"
        f"  data      {data.path}: {len(data.train)} train / {len(data.val)} val sequences\n"
        f"  stopping  {stopping}\n"
        f"  resources {resources.cpus_per_trial:g} CPU + {gpus_per_trial:g} GPU per trial, {max_concurrent} at once"
        + (f", no new trials after {plan.time_budget_s:g} s" if plan.time_budget_s else "")
        + f"\n  run       {options.run_path}",
        flush=True,
    )
