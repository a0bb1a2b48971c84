"""python -m tune.run --arch grunet0.5: a hyperparameter search with Ray Tune.

Every check that can fail on user input runs before Ray starts (or is even
imported); the run folder is created only once the search is about to begin.
The search itself is tune/experiment/driver.py.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from au2bs import cli
from au2bs.data import read_manifest
from au2bs.errors import InputError
from au2bs.models.space import describe_space
from tune.experiment.environment import configure
from tune.experiment.interrupts import Interrupted, Interrupts
from tune.flags import check_local_gpus, check_run_name, check_storage, parser, resolve_all
from tune.runfolder import storage
from tune.runfolder.layout import CONFIG_FILE
from tune.runfolder.settings import SearchOptions
from tune.runfolder.summary import resume_command
from tune.runfolder.trials import read_run_options


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
    if saved.place.name != name:
        raise InputError(
            f"{CONFIG_FILE} names run {saved.place.name!r}, not {name!r}: was the folder renamed?", run
        )
    resources = saved.resources if address is None else replace(saved.resources, address=address)
    return replace(saved, place=replace(saved.place, storage=root), resources=resources)


def _prepare(argv: list[str] | None) -> tuple[list[SearchOptions], bool, bool] | int:
    args = parser().parse_args(argv)
    if args.show_space:
        for options in resolve_all(args):  # the same checks as a run
            print(describe_space(options.plan.arch))
        return 0
    resuming = args.resume is not None
    runs = [_resumed_options(args.resume, args.storage, args.address)] if resuming else resolve_all(args)
    for options in runs:
        check_local_gpus(options)
        check_storage(options, new_run=not resuming)
        if options.plan.data is not None:
            read_manifest(options.plan.data)  # exists and is a dataset
    return runs, resuming, args.verbose


def main(argv: list[str] | None = None) -> int:
    configure()  # before anything imports Ray
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
    try:
        from tune.experiment.driver import run_search  # imports Ray: seconds
    except Interrupted:
        print("interrupted before the search started: nothing was written", file=sys.stderr)
        return 130

    codes = []
    for options in runs:
        try:
            codes.append(run_search(options, resuming, interrupts, verbose))
        except InputError as error:
            return cli.report(error)
        except Interrupted:
            print(
                f"stopped at once ({interrupts.name or 'SIGINT'}): the run keeps its last saved state; "
                f"resume it with: {resume_command(options.place.name, options.place.storage)}",
                file=sys.stderr,
            )
            return interrupts.exit_code if interrupts.signum else 130
        if interrupts.signum is not None:
            return codes[-1]  # later architectures of --arch are not started
    if len(runs) > 1:
        print("\ncompare them: python -m tune.compare " + " ".join(o.run_path for o in runs))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
