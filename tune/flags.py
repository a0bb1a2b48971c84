"""`tune.run`'s command line: flags, defaults and every check made before Ray starts.

The flags are derived from the settings' fields (tune/runfolder/settings.py):
a new setting with `help` metadata is a new flag, checked the same way when
it comes back from a run's config.json.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from au2bs import cli
from au2bs.errors import InputError
from au2bs.models import ARCHITECTURES
from tune.runfolder import storage
from tune.runfolder.layout import DEFAULT_STORAGE
from tune.runfolder.lock import refuse_existing
from tune.runfolder.settings import FLAG_FIELDS, SearchOptions, flag_name, validate


def _scalar_type(declared: str):
    return {"int": int, "float": float, "str": str}[declared.split("|")[0].strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tune.run",
        usage="%(prog)s (--arch ARCH | --resume NAME) [options]",
        description="Hyperparameter search for one GRUNet architecture with Ray Tune: Optuna (TPE) "
        "proposes configurations, ASHA stops poor trials early, trials share one copy of the dataset "
        "per node. Ends by naming the best configuration and its checkpoint.",
    )
    p.add_argument(
        "--arch",
        help=f"architecture(s) to search, required unless --resume: one of {', '.join(ARCHITECTURES)}; "
        "several separated by commas, or 'all' (each gets the same budget and seed, one after another)",
    )
    cli.add_data(p)
    p.add_argument("--show-space", action="store_true", help="print the architecture's search space and exit")
    for _, f in FLAG_FIELDS:
        meta = f.metadata
        default = "none" if meta["default"] is None else meta["default"]
        p.add_argument(
            flag_name(f),
            dest=f.name,
            metavar=None if meta["choices"] else flag_name(f)[2:].upper().replace("-", "_"),
            type=_scalar_type(f.type),
            choices=meta["choices"],
            help=f"{meta['help']} (default: {default})",
        )
    cli.add_seed(p, "master seed: the sampler's and, derived per trial, each trial's")
    p.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help="folder or URI (s3://bucket/runs) for run folders (default: %(default)s)",
    )
    p.add_argument(
        "--name", help="run name (default: <arch>-<timestamp>; with several architectures <name>-<arch>)"
    )
    p.add_argument("--resume", metavar="NAME", help="continue the interrupted run NAME in --storage")
    smoke = ", ".join(f"{flag_name(f)} {f.metadata['smoke']}" for _, f in FLAG_FIELDS if f.metadata["smoke"])
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help=f"a tiny search to check the set-up (under 2 minutes): {smoke}",
    )
    p.add_argument("--verbose", action="store_true", help="print Ray's status table and Ray/Optuna log lines")
    return p


def architectures(text: str | None) -> list[str]:
    """`--arch`: one name, a comma-separated list, or 'all'."""
    if text is None:
        raise InputError("--arch is required (or --resume NAME)")
    names = (
        list(ARCHITECTURES) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    )
    if not names:
        raise InputError(f"--arch names no architecture: {text!r}")
    for name in names:
        cli.check_architecture(name)
    if len(set(names)) != len(names):
        raise InputError(f"--arch names an architecture twice: {text}")
    return names


def check_run_name(name: str) -> str:
    """A run name is one folder inside --storage: no separators, no '..', not absolute, not hidden."""
    if (
        not name
        or name != name.strip()
        or any(sep in name for sep in ("/", "\\", "\0"))
        or name.startswith(".")
        or storage.is_uri(name)
    ):
        raise InputError(
            f"--name {name!r} must be a plain folder name inside --storage "
            "(no '/', '\\', leading '.', '..' or URI); use --storage to choose where runs go"
        )
    return name


def resolve_all(args: argparse.Namespace) -> list[SearchOptions]:
    """One SearchOptions per architecture of `--arch`, same budget and seed."""
    names = architectures(args.arch)
    if args.name is not None:
        check_run_name(args.name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs = []
    for arch in names:
        if len(names) == 1:
            name = args.name or f"{arch}-{stamp}"
        else:
            name = f"{args.name}-{arch}" if args.name else f"{arch}-{stamp}"
        runs.append(resolve(args, arch, name))
    return runs


def resolve(args: argparse.Namespace, arch: str, name: str) -> SearchOptions:
    """Checks the flags and fills in defaults for one architecture."""
    values = {
        "arch": arch,
        "data": str(Path(args.data).resolve()) if args.data else None,
        "seed": args.seed,
        "storage": storage.absolute(args.storage),
        "name": name,
    }
    for _, f in FLAG_FIELDS:
        given = getattr(args, f.name)
        fallback = f.metadata["smoke"] if args.smoke_test and f.metadata["smoke"] else f.metadata["default"]
        values[f.name] = fallback if given is None else given
    options = SearchOptions.from_flat(values)
    validate(options)
    return options


def check_local_gpus(options: SearchOptions) -> None:
    """GPUs asked for on a machine without any: fail before Ray starts."""
    resources = options.resources
    if resources.address is None and resources.gpus_per_trial:
        import torch

        if not torch.cuda.is_available():
            raise InputError(
                f"--gpus-per-trial {resources.gpus_per_trial} but this machine has no CUDA GPU "
                "(use --address to join a GPU cluster, or leave the flag out)"
            )


def check_storage(options: SearchOptions, new_run: bool) -> None:
    """A local storage folder must be writable; a new run's name must be free."""
    place = options.place
    if storage.is_uri(place.storage):
        return
    root = Path(place.storage)
    probe = root
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError("storage folder is not writable", root)
    run = root / place.name
    if new_run and run.exists():
        refuse_existing(str(run))
