"""`tune.run`'s command line: flags, defaults and every check made before Ray starts."""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from au2bs.errors import InputError
from au2bs.models import ARCHITECTURES
from tune import storage
from tune.artifacts import CONFIG_FILE, DEFAULT_STORAGE


@dataclass(frozen=True)
class SearchOptions:
    """One search, fully resolved; saved as the run folder's config.json."""

    arch: str
    data: str | None  # None = the built-in synthetic dataset
    num_samples: int
    max_epochs: int
    grace_period: int
    reduction_factor: int
    scheduler: str  # "asha" | "fifo"
    search: str  # "optuna" | "random"
    time_budget_s: float | None
    cpus_per_trial: float
    gpus_per_trial: float | None  # None = decide from the cluster's GPUs
    max_concurrent: int | None  # None = as many as the resources hold
    seed: int
    storage: str
    name: str
    address: str | None
    keep_checkpoints: int
    max_failures: int
    train_fraction: float  # share of the training split each trial uses (the default budget)

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
        return f"{self.storage.rstrip('/')}/{self.name}"


# The default budget: fits in under 10 minutes for grunet0.5 on a 2-core
# machine, and still gives ASHA rungs to prune at (epochs 1, 3, 9).
DEFAULTS = {
    "num_samples": 12,
    "max_epochs": 9,
    "grace_period": 1,
    "reduction_factor": 3,
    "train_fraction": 0.25,
}
SMOKE = {"num_samples": 4, "max_epochs": 3, "train_fraction": 0.05}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tune.run",
        description="Hyperparameter search for one GRUNet architecture with Ray Tune: Optuna (TPE) "
        "proposes configurations, ASHA stops poor trials early, trials share one copy of the dataset "
        "per node. Ends by naming the best configuration and its checkpoint.",
    )
    p.add_argument(
        "--arch",
        help=f"architecture(s) to search: one of {', '.join(ARCHITECTURES)}; several separated by commas, "
        "or 'all' (each gets the same budget and seed, one after another)",
    )
    p.add_argument(
        "--data", help="dataset from `python -m au2bs.data build` (default: the built-in synthetic dataset)"
    )
    p.add_argument("--show-space", action="store_true", help="print the architecture's search space and exit")
    p.add_argument("--num-samples", type=int, help=f"trials to run (default: {DEFAULTS['num_samples']})")
    p.add_argument(
        "--max-epochs",
        type=int,
        help=f"epochs of a trial that is never stopped (default: {DEFAULTS['max_epochs']})",
    )
    p.add_argument(
        "--grace-period",
        type=int,
        help=f"ASHA: epochs before a trial can be stopped (default: {DEFAULTS['grace_period']})",
    )
    p.add_argument(
        "--reduction-factor",
        type=int,
        help=f"ASHA: keep 1 in N at each rung (default: {DEFAULTS['reduction_factor']})",
    )
    p.add_argument(
        "--scheduler",
        choices=("asha", "fifo"),
        default="asha",
        help="asha stops poor trials early; fifo runs every trial to the end (default: %(default)s)",
    )
    p.add_argument(
        "--search",
        choices=("optuna", "random"),
        default="optuna",
        help="optuna = multivariate TPE; random = random sampling, for comparison (default: %(default)s)",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        help="seconds after which no new trial starts; running trials finish (default: none)",
    )
    p.add_argument(
        "--train-fraction",
        type=float,
        help=f"share of the training sequences each trial trains on, for quick searches (default: {DEFAULTS['train_fraction']}; 1 = all)",
    )
    p.add_argument(
        "--cpus-per-trial",
        type=float,
        default=1.0,
        help="CPUs reserved per trial; also its PyTorch threads (default: %(default)s)",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        help="GPUs per trial; a fraction packs trials on a GPU, e.g. 0.25 = 4 per GPU (default: 0 without GPUs, 0.25 with; "
        "on a cluster whose GPU workers have not started yet, give it and the trials wait for them)",
    )
    p.add_argument(
        "--max-concurrent",
        type=int,
        help="trials at once (default: as many as the resources hold now; give it on an autoscaling "
        "cluster, which grows only as far as the waiting trials ask)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="master seed: the sampler's and, derived per trial, each trial's (default: %(default)s)",
    )
    p.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        help="folder or URI (s3://bucket/runs) for run folders (default: %(default)s)",
    )
    p.add_argument(
        "--name", help="run name (default: <arch>-<timestamp>; with several architectures <name>-<arch>)"
    )
    p.add_argument("--resume", metavar="NAME", help="continue the interrupted run NAME in --storage")
    p.add_argument(
        "--address",
        help="join an existing Ray cluster ('auto' on a cluster node); default: start a local Ray. "
        "On several nodes, --storage must be shared (a URI or NFS)",
    )
    p.add_argument(
        "--keep-checkpoints",
        type=int,
        default=2,
        help="best checkpoints kept per trial, besides the latest (default: %(default)s)",
    )
    p.add_argument(
        "--max-failures",
        type=int,
        default=3,
        help="retries of a trial whose worker died (default: %(default)s)",
    )
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help=f"a tiny search to check the set-up (under 2 minutes): {SMOKE}",
    )
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


def _positive(name: str, value, allow_zero: bool = False) -> None:
    if value is not None and not math.isfinite(value):
        raise InputError(f"--{name} must be a finite number, got {value}")
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        raise InputError(f"--{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def architectures(text: str | None) -> list[str]:
    """`--arch`: one name, a comma-separated list, or 'all'."""
    if text is None:
        raise InputError("--arch is required (or --resume NAME)")
    names = (
        list(ARCHITECTURES) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    )
    unknown = [n for n in names if n not in ARCHITECTURES]
    if unknown or not names:
        raise InputError(
            f"unknown architecture {', '.join(unknown) or repr(text)}; registered: {', '.join(ARCHITECTURES)}"
        )
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
    base = {**DEFAULTS, **(SMOKE if args.smoke_test else {})}
    pick = lambda flag, key: base[key] if flag is None else flag  # noqa: E731
    options = SearchOptions(
        arch=arch,
        data=str(Path(args.data).resolve()) if args.data else None,
        num_samples=pick(args.num_samples, "num_samples"),
        max_epochs=pick(args.max_epochs, "max_epochs"),
        grace_period=pick(args.grace_period, "grace_period"),
        reduction_factor=pick(args.reduction_factor, "reduction_factor"),
        scheduler=args.scheduler,
        search=args.search,
        time_budget_s=args.time_budget,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        max_concurrent=args.max_concurrent,
        seed=args.seed,
        storage=storage.absolute(args.storage),
        name=name,
        address=args.address,
        keep_checkpoints=args.keep_checkpoints,
        max_failures=args.max_failures,
        train_fraction=pick(args.train_fraction, "train_fraction"),
    )
    validate(options)
    return options


def validate(options: SearchOptions) -> None:
    """The value checks of every flag; InputError at the first that fails."""
    for name in (
        "num_samples",
        "max_epochs",
        "grace_period",
        "reduction_factor",
        "cpus_per_trial",
        "max_concurrent",
        "keep_checkpoints",
    ):
        _positive(name.replace("_", "-"), getattr(options, name))
    _positive("gpus-per-trial", options.gpus_per_trial, allow_zero=True)
    _positive("max-failures", options.max_failures, allow_zero=True)
    _positive("time-budget", options.time_budget_s)
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
