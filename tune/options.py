"""`tune.run`'s command line: flags, defaults and every check made before Ray starts."""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from au2bs import cli
from au2bs.errors import InputError
from au2bs.models import ARCHITECTURES
from tune import storage
from tune.artifacts import CONFIG_FILE, DEFAULT_STORAGE


def _flag(help: str, default=None, smoke=None, minimum: str | None = None, choices=None, flag=None):
    """A SearchOptions field that is also a `tune.run` flag.

    Args:
        help: the flag's help; "(default: ...)" is added from `default`.
        smoke: the value --smoke-test uses instead of the default.
        minimum: ">0" or ">=0": the value check every source of the field gets (flag or config.json).
        flag: the flag's name when it is not the field's (e.g. --time-budget for time_budget_s).
    """
    metadata = {"help": help, "default": default, "smoke": smoke, "minimum": minimum}
    return field(metadata={**metadata, "choices": choices, "flag": flag})


@dataclass(frozen=True)
class SearchOptions:
    """One search, fully resolved; saved as the run folder's config.json.

    The fields with flag metadata are `tune.run`'s flags (`parser` derives them);
    arch, data, seed, storage and name are flags with checks of their own.
    """

    arch: str
    data: str | None  # None = the built-in synthetic dataset
    # The default budget fits in under 10 minutes for grunet0.5 on a 2-core
    # machine, and still gives ASHA rungs to prune at (epochs 1, 3, 9).
    num_samples: int = _flag("trials to run", 12, smoke=4, minimum=">0")
    max_epochs: int = _flag("epochs of a trial that is never stopped", 9, smoke=3, minimum=">0")
    grace_period: int = _flag("ASHA: epochs before a trial can be stopped", 1, minimum=">0")
    reduction_factor: int = _flag("ASHA: keep 1 in N at each rung", 3, minimum=">0")
    scheduler: str = _flag(
        "asha stops poor trials early; fifo runs every trial to the end", "asha", choices=("asha", "fifo")
    )
    search: str = _flag(
        "optuna = multivariate TPE; random = random sampling, for comparison",
        "optuna",
        choices=("optuna", "random"),
    )
    time_budget_s: float | None = _flag(
        "seconds after which no new trial starts; running trials finish", minimum=">0", flag="--time-budget"
    )
    train_fraction: float = _flag(
        "share of the training sequences each trial trains on, for quick searches (1 = all)", 0.25, smoke=0.05
    )
    cpus_per_trial: float = _flag("CPUs reserved per trial; also its PyTorch threads", 1.0, minimum=">0")
    gpus_per_trial: float | None = _flag(
        "GPUs per trial; a fraction packs trials on a GPU, e.g. 0.25 = 4 per GPU (without it: 0 without "
        "GPUs, 0.25 with; on a cluster whose GPU workers have not started yet, give it and the trials "
        "wait for them)",
        minimum=">=0",
    )
    max_concurrent: int | None = _flag(
        "trials at once (without it: as many as the resources hold now; give it on an autoscaling "
        "cluster, which grows only as far as the waiting trials ask)",
        minimum=">0",
    )
    seed: int
    storage: str
    name: str
    address: str | None = _flag(
        "join an existing Ray cluster ('auto' on a cluster node); without it: a private local Ray. "
        "On several nodes, --storage must be shared (a URI or NFS)"
    )
    keep_checkpoints: int = _flag("best checkpoints kept per trial, besides the latest", 2, minimum=">0")
    max_failures: int = _flag("retries of a trial whose worker died", 3, minimum=">=0")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SearchOptions:
        """A saved config.json, its every field checked as a flag would be; InputError if it is not."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{CONFIG_FILE} is not JSON: {error}") from None
        if not isinstance(values, dict):
            raise InputError(f"{CONFIG_FILE} is not a JSON object")
        names = {f.name: f.type for f in fields(cls)}
        unknown, missing = sorted(set(values) - set(names)), sorted(set(names) - set(values))
        if unknown or missing:
            raise InputError(f"{CONFIG_FILE}: unknown {unknown or '-'}, missing {missing or '-'}")
        for name, declared in names.items():
            if not _has_type(values[name], declared):
                raise InputError(f"{CONFIG_FILE}: {name} must be {declared}, got {values[name]!r}")
        options = cls(**values)
        validate(options)
        return options

    @property
    def run_path(self) -> str:
        return storage.join(self.storage, self.name)


FLAG_FIELDS = tuple(f for f in fields(SearchOptions) if "help" in f.metadata)


def _flag_name(f) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


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
    for f in FLAG_FIELDS:
        meta = f.metadata
        default = "none" if meta["default"] is None else meta["default"]
        p.add_argument(
            _flag_name(f),
            dest=f.name,
            metavar=None if meta["choices"] else _flag_name(f)[2:].upper().replace("-", "_"),
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
    smoke = ", ".join(f"{_flag_name(f)} {f.metadata['smoke']}" for f in FLAG_FIELDS if f.metadata["smoke"])
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help=f"a tiny search to check the set-up (under 2 minutes): {smoke}",
    )
    p.add_argument("--verbose", action="store_true", help="print Ray's status table and Ray/Optuna log lines")
    return p


def _has_type(value, declared: str) -> bool:
    """`value` fits a field declared as e.g. "int", "float | None", "str | None" (bools are not numbers)."""
    allowed = {part.strip() for part in declared.split("|")}
    if value is None:
        return "None" in allowed
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return bool(allowed & {"int", "float"})
    if isinstance(value, float):
        return "float" in allowed
    return isinstance(value, str) and "str" in allowed


def _positive(flag: str, value, allow_zero: bool = False) -> None:
    if value is not None and not math.isfinite(value):
        raise InputError(f"{flag} must be a finite number, got {value}")
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        raise InputError(f"{flag} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


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
    values = {}
    for f in FLAG_FIELDS:
        given = getattr(args, f.name)
        fallback = f.metadata["smoke"] if args.smoke_test and f.metadata["smoke"] else f.metadata["default"]
        values[f.name] = fallback if given is None else given
    options = SearchOptions(
        arch=arch,
        data=str(Path(args.data).resolve()) if args.data else None,
        seed=args.seed,
        storage=storage.absolute(args.storage),
        name=name,
        **values,
    )
    validate(options)
    return options


def validate(options: SearchOptions) -> None:
    """The value checks of every flag; InputError at the first that fails."""
    for f in FLAG_FIELDS:
        if f.metadata["minimum"]:
            _positive(_flag_name(f), getattr(options, f.name), allow_zero=f.metadata["minimum"] == ">=0")
    if not 0 < options.train_fraction <= 1:
        raise InputError(f"--train-fraction must be in (0, 1], got {options.train_fraction}")
    if options.reduction_factor < 2:
        raise InputError("--reduction-factor must be at least 2")
    if options.grace_period > options.max_epochs:
        raise InputError(
            f"--grace-period ({options.grace_period}) exceeds --max-epochs ({options.max_epochs})"
        )


def check_local_gpus(options: SearchOptions) -> None:
    """GPUs asked for on a machine without any: fail before Ray starts."""
    if options.address is None and options.gpus_per_trial:
        import torch

        if not torch.cuda.is_available():
            raise InputError(
                f"--gpus-per-trial {options.gpus_per_trial} but this machine has no CUDA GPU "
                "(use --address to join a GPU cluster, or leave the flag out)"
            )


def check_storage(options: SearchOptions, new_run: bool) -> None:
    """A local storage folder must be writable; a new run's name must be free."""
    if storage.is_uri(options.storage):
        return
    root = Path(options.storage)
    probe = root
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError("storage folder is not writable", root)
    run = root / options.name
    if new_run and run.exists():
        from tune.run_lock import refuse_existing

        refuse_existing(str(run))
