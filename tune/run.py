"""python -m tune.run --arch grunet0.5: a hyperparameter search with Ray Tune.

Every check that can fail on user input runs before Ray starts; the run
folder is created only once the search is about to begin.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

# The cluster files start Ray with this token (README, "Scale out"): every
# driver on a node needs it too, and Ray reads it when it is imported.
CLUSTER_TOKEN = Path("~/.ray/au2bs-token").expanduser()
if CLUSTER_TOKEN.is_file() and not {"RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH"} & set(os.environ):
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(CLUSTER_TOKEN))
# Quieter Ray: these warnings concern APIs this project does not use.
os.environ.setdefault("RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS", "0")
os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Ray's newer console output ignores progress reporters; with --verbose, use the classic table.
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

from au2bs import cli  # noqa: E402
from au2bs.data import load_dataset, read_manifest  # noqa: E402
from au2bs.data.default import choose_dataset  # noqa: E402
from au2bs.errors import InputError  # noqa: E402
from au2bs.models.space import describe_space  # noqa: E402
from tune import storage  # noqa: E402
from tune.artifacts import CONFIG_FILE  # noqa: E402
from tune.bridge import resume_at  # noqa: E402
from tune.interrupts import Interrupted, Interrupts, resume_command  # noqa: E402
from tune.options import (  # noqa: E402
    SearchOptions,
    check_local_gpus,
    check_run_name,
    check_storage,
    parser,
    resolve_all,
)
from tune.results import read_run_options  # noqa: E402
from tune.run_lock import RunLock  # noqa: E402


def _resumed_options(name: str, storage_root: str, address: str | None) -> SearchOptions:
    """The saved settings of run `name`, resumed where it lies now: in `storage_root`.

    A run copied or moved since it started is resumed (and rewritten) at its
    new place, never at the storage its config.json remembers.
    """
    check_run_name(name)
    root = storage.absolute(storage_root)
    run = storage.join(root, name)
    try:
        saved = read_run_options(run)
    except Exception as error:  # pyarrow raises many kinds for a bad URI
        raise InputError(f"cannot read the run to resume: {error}", run) from None
    if saved is None:
        raise InputError(f"no run {name!r} to resume (no {CONFIG_FILE} there)", run)
    if saved.name != name:
        raise InputError(
            f"{CONFIG_FILE} names run {saved.name!r}, not {name!r}: was the folder renamed?", run
        )
    return replace(saved, storage=root, address=address if address is not None else saved.address)


def _prepare(argv: list[str] | None) -> tuple[list[SearchOptions], bool, bool] | int:
    args = parser().parse_args(argv)
    if args.show_space:
        for options in resolve_all(args):  # the same checks as a run
            print(describe_space(options.arch))
        return 0
    resuming = args.resume is not None
    runs = [_resumed_options(args.resume, args.storage, args.address)] if resuming else resolve_all(args)
    for options in runs:
        check_local_gpus(options)
        check_storage(options, new_run=not resuming)
        if options.data is not None:
            read_manifest(options.data)  # exists and is a dataset
    return runs, resuming, args.verbose


def main(argv: list[str] | None = None) -> int:
    interrupts = Interrupts()
    interrupts.install()
    try:
        return _main(argv, interrupts)
    finally:
        interrupts.uninstall()


def _main(argv: list[str] | None, interrupts: Interrupts) -> int:
    try:
        prepared = _prepare(argv)
    except InputError as error:
        return cli.report(error)
    except Interrupted:
        print("interrupted before the search started: nothing was written", file=sys.stderr)
        return 130
    if isinstance(prepared, int):
        return prepared
    runs, resuming, verbose = prepared
    codes = []
    for options in runs:
        try:
            codes.append(run_search(options, resuming, interrupts, verbose))
        except InputError as error:
            return cli.report(error)
        except Interrupted:
            print(
                f"stopped at once ({interrupts.name or 'SIGINT'}): the run keeps its last saved state; "
                f"resume it with: {resume_command(options.name, options.storage)}",
                file=sys.stderr,
            )
            return interrupts.exit_code if interrupts.signum else 130
        if interrupts.signum is not None:
            return codes[-1]  # later architectures of --arch are not started
    if len(runs) > 1:
        print("\ncompare them: python -m tune.compare " + " ".join(o.run_path for o in runs))
    return max(codes)


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
        from tune.library_output import library_output  # imports Ray, which sets up its loggers

        with library_output(verbose):
            return _search(options, resuming, interrupts, locks, verbose)
    finally:
        for lock in locks:
            lock.release()


def _search(
    options: SearchOptions, resuming: bool, interrupts: Interrupts, locks: list[RunLock], verbose: bool
) -> int:
    import ray

    from tune import search
    from tune.cluster_plan import plan_resources
    from tune.results import collect_trials, format_summary, save_results, summarize

    dataset = choose_dataset(options.data)
    splits = load_dataset(dataset.path, ("train", "val"))
    data = {
        "train": splits["train"].subset(options.train_fraction, options.seed),
        "val": splits["val"],
    }

    # Without --address: a private local Ray, never one a `ray start` left running here.
    ray.init(
        address=options.address or "local",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        **({} if options.address else {"_node_ip_address": "127.0.0.1"}),
    )
    interrupts.install()  # ray.init sets its own SIGTERM handler
    try:
        gpus_per_trial, notes = plan_resources(options)
        if gpus_per_trial is None:
            return 2
        if options.train_fraction < 1:
            notes.append(
                f"trials trained on {len(data['train'])} of {len(splits['train'])} training sequences "
                f"(--train-fraction {options.train_fraction}); validation used all {len(data['val'])}"
            )
        max_concurrent = options.max_concurrent or search.slots(options, gpus_per_trial)
        console = search.make_console(options, verbose)
        _print_plan(options, dataset.path, data, gpus_per_trial, max_concurrent, resuming)
        if not resuming:
            locks.append(RunLock.new_run(options.run_path))  # the folder and its lock, in one step
            storage.write_bytes(storage.join(options.run_path, CONFIG_FILE), options.to_json().encode())
            tuner = search.new_tuner(
                options, data, gpus_per_trial, dataset.provenance, max_concurrent, console
            )
        else:
            search.fetch_study(options)
            resume_at(search.study_storage(options), options.storage)  # where the run lies now
            tuner = search.restored_tuner(options, data, gpus_per_trial, dataset.provenance, console)
        start = time.monotonic()
        interrupts.searching = True
        try:
            tuner.fit()
        finally:
            console.close()  # a terminal's progress line ends before anything else prints
            interrupts.searching = False
            search.publish_study(options)  # finished or interrupted, the run folder holds its study
        wall = time.monotonic() - start
        trials, _ = collect_trials(options.run_path, options)
        if trials.empty:
            print("error: no trial ran", file=sys.stderr)
            return interrupts.exit_code if interrupts.signum else 1
        interrupted = interrupts.name
        summary = summarize(
            trials, options, wall, notes, interrupted, resume_command(options.name, options.storage)
        )
        save_results(trials, summary, options)
        print(format_summary(summary))
        if interrupted:
            return interrupts.exit_code
        if summary["best"] is None:
            print(f"error: {summary['no_best']}", file=sys.stderr)
            return 1
        return 0 if (trials["status"] != "errored").any() else 1
    finally:
        ray.shutdown()


def _print_plan(options, dataset, data, gpus_per_trial, max_concurrent, resuming) -> None:
    from tune.search import asha_rungs

    stopping = (
        f"ASHA on epochs: max_t {options.max_epochs}, grace period {options.grace_period}, "
        f"reduction factor {options.reduction_factor}, rungs at epochs {asha_rungs(options)}"
        if options.scheduler == "asha"
        else f"FIFO: every trial runs {options.max_epochs} epochs"
    )
    print(
        f"{'resuming' if resuming else 'search'} {options.name}: {options.arch}, {options.num_samples} trials, "
        f"{options.search} search (seed {options.seed}), research configuration first\n"
        f"  data      {dataset}: {len(data['train'])} train / {len(data['val'])} val sequences\n"
        f"  stopping  {stopping}\n"
        f"  resources {options.cpus_per_trial:g} CPU + {gpus_per_trial:g} GPU per trial, {max_concurrent} at once"
        + (f", no new trials after {options.time_budget_s:g} s" if options.time_budget_s else "")
        + f"\n  run       {options.run_path}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
