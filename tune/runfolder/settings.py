"""A search's resolved settings, saved as the run folder's config.json: what, on what, where.

Three parts, each read by the code that needs it:

- `SearchPlan`: what is searched and for how long (architecture, data, trials,
  epochs, stopping, sampler, seed); the searcher, scheduler and trainable read it;
- `TrialResources`: what each trial gets and where it runs (CPUs, GPUs, how
  many at once, which Ray cluster, retries);
- `RunPlace`: where the run folder lies and what it keeps (storage, name,
  checkpoints per trial).

config.json stays one flat object with the fields' names as keys, so runs
saved before the split read unchanged. Fields carrying `help` metadata are
`tune.run` flags: `tune/flags.py` derives the command line from them; the
value checks live here, because a config.json is checked like a flag.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields

from au2bs.errors import InputError
from tune.runfolder import storage
from tune.runfolder.layout import CONFIG_FILE


def _flag(help: str, default=None, smoke=None, minimum: str | None = None, choices=None, flag=None):
    """A settings field that is also a `tune.run` flag.

    Args:
        help: the flag's help; "(default: ...)" is added from `default`.
        smoke: the value --smoke-test uses instead of the default.
        minimum: ">0" or ">=0": the value check every source of the field gets (flag or config.json).
        flag: the flag's name when it is not the field's (e.g. --time-budget for time_budget_s).
    """
    metadata = {"help": help, "default": default, "smoke": smoke, "minimum": minimum}
    return field(metadata={**metadata, "choices": choices, "flag": flag})


@dataclass(frozen=True)
class SearchPlan:
    """What is searched and for how long."""

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
    seed: int


@dataclass(frozen=True)
class TrialResources:
    """What each trial gets, and the cluster it runs on."""

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
    address: str | None = _flag(
        "join an existing Ray cluster ('auto' on a cluster node); without it: a private local Ray. "
        "On several nodes, --storage must be shared (a URI or NFS)"
    )
    max_failures: int = _flag("retries of a trial whose worker died", 3, minimum=">=0")


@dataclass(frozen=True)
class RunPlace:
    """Where the run folder lies and what it keeps."""

    storage: str  # absolute folder or URI
    name: str
    keep_checkpoints: int = _flag("best checkpoints kept per trial, besides the latest", 2, minimum=">0")

    @property
    def run_path(self) -> str:
        return storage.join(self.storage, self.name)


PARTS = {"plan": SearchPlan, "resources": TrialResources, "place": RunPlace}


@dataclass(frozen=True)
class SearchOptions:
    """One search, fully resolved; saved as the run folder's config.json (flat)."""

    plan: SearchPlan
    resources: TrialResources
    place: RunPlace

    @property
    def run_path(self) -> str:
        return self.place.run_path

    def to_json(self) -> str:
        flat = {name: value for part in PARTS for name, value in asdict(getattr(self, part)).items()}
        return json.dumps(flat, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SearchOptions:
        """A saved config.json, its every field checked as a flag would be; InputError if it is not."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{CONFIG_FILE} is not JSON: {error}") from None
        if not isinstance(values, dict):
            raise InputError(f"{CONFIG_FILE} is not a JSON object")
        declared = {f.name: f.type for part in PARTS.values() for f in fields(part)}
        unknown, missing = sorted(set(values) - set(declared)), sorted(set(declared) - set(values))
        if unknown or missing:
            raise InputError(f"{CONFIG_FILE}: unknown {unknown or '-'}, missing {missing or '-'}")
        for name, kind in declared.items():
            if not _has_type(values[name], kind):
                raise InputError(f"{CONFIG_FILE}: {name} must be {kind}, got {values[name]!r}")
        options = cls.from_flat(values)
        validate(options)
        return options

    @classmethod
    def from_flat(cls, values: dict) -> SearchOptions:
        """The settings from one flat mapping of field names (config.json's, or the resolved flags')."""
        return cls(
            **{part: kind(**{f.name: values[f.name] for f in fields(kind)}) for part, kind in PARTS.items()}
        )


# (part, field) of every setting that is a tune.run flag, in --help order.
FLAG_FIELDS = tuple((part, f) for part, kind in PARTS.items() for f in fields(kind) if "help" in f.metadata)


def flag_name(f) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


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


def validate(options: SearchOptions) -> None:
    """The value checks of every flag; InputError at the first that fails."""
    for part, f in FLAG_FIELDS:
        if f.metadata["minimum"]:
            value = getattr(getattr(options, part), f.name)
            _positive(flag_name(f), value, allow_zero=f.metadata["minimum"] == ">=0")
    plan = options.plan
    if not 0 < plan.train_fraction <= 1:
        raise InputError(f"--train-fraction must be in (0, 1], got {plan.train_fraction}")
    if plan.reduction_factor < 2:
        raise InputError("--reduction-factor must be at least 2")
    if plan.grace_period > plan.max_epochs:
        raise InputError(f"--grace-period ({plan.grace_period}) exceeds --max-epochs ({plan.max_epochs})")
