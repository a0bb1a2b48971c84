"""The lines of the search console: numbers, trial names, ASHA's decisions, the progress line.

Pure formatting, no Ray (tune/console/callback.py prints them; ASHA's
decisions come from tune/console/asha.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tune.runfolder.layout import TRIAL_NUMBER

METRIC_NAME = "val MSE"


def number(value, digits: int = 3) -> str:
    """`digits` significant digits, short: 128, 0.31, 0.0416, 3.2e-3, 1.5e4."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value) or value == 0:
        return str(value) if value else "0"
    text = f"{value:.{digits}g}"
    if abs(value) >= 1e-2 and "e" not in text:
        return text
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def score(value, digits: int = 3) -> str:
    """A metric value, `digits` significant digits: 0.0416, 0.00846 (comparable at a glance)."""
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def distinct(a: float, b: float, digits: int = 3) -> tuple[str, str]:
    """`a` and `b` with enough digits that two different values never read the same."""
    while digits < 9 and a != b and score(a, digits) == score(b, digits):
        digits += 1
    return score(a, digits), score(b, digits)


def clock(seconds: float) -> str:
    """0:09, 12:05, 1:02:03."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def label(config: dict, fallback: str) -> str:
    """A trial's name on the console: its Optuna trial number."""
    return f"#{config[TRIAL_NUMBER]}" if TRIAL_NUMBER in config else fallback


def hyperparameters(config: dict, names: list[str]) -> str:
    """hidden_size=128 dropout=0.31 learning_rate=3.2e-3, in the search space's order."""
    return " ".join(f"{name}={number(config[name])}" for name in names if name in config)


def last_line(text: str | None, limit: int = 200) -> str:
    """The line of an error text that says what went wrong (a traceback's last)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    line = lines[-1] if lines else "unknown error"
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class RungDecision:
    """What ASHA decided for a trial that reached one of its rungs."""

    epoch: int
    value: float
    cutoff: float | None  # in metric units; None: the first trial at this rung (nothing to compare)
    stopped: bool


def rung_line(name: str, decision: RungDecision) -> str:
    epoch = decision.epoch
    if decision.cutoff is None:
        return (
            f"{name} continues after epoch {epoch}: {METRIC_NAME} {score(decision.value)}, first at this rung"
        )
    value, cutoff = distinct(decision.value, decision.cutoff)
    if decision.stopped:
        return f"{name} stopped at epoch {epoch}: {METRIC_NAME} {value} worse than the rung's cutoff {cutoff}"
    relation = "equal to" if decision.value == decision.cutoff else "better than"
    return (
        f"{name} continues after epoch {epoch}: {METRIC_NAME} {value} {relation} the rung's cutoff {cutoff}"
    )


@dataclass(frozen=True)
class Progress:
    epochs: int
    budget: int  # num_samples x max_epochs
    elapsed_s: float
    eta_s: float | None  # None until an epoch has finished
    running: int
    done: int
    stopped: int
    diverged: int = 0
    failed: int = 0
    best: tuple[str, float] | None = None  # trial name, metric value


def progress_line(p: Progress, width: int | None = None) -> str:
    """progress: epochs 10/36 | 0:42 elapsed, ETA 1:54 | trials 2 running, 1 done, 1 stopped | best #2 val MSE 0.0416

    Within `width` (a terminal's), shorter words, then cut.
    """
    counts = [f"{p.running} running", f"{p.done} done", f"{p.stopped} stopped"]
    counts += [f"{n} {word}" for n, word in ((p.diverged, "diverged"), (p.failed, "failed")) if n]
    eta = "" if p.eta_s is None else f", ETA {clock(p.eta_s)}"
    best = f"best {p.best[0]} {METRIC_NAME} {score(p.best[1])}" if p.best else "no result yet"
    line = (
        f"progress: epochs {p.epochs}/{p.budget} | {clock(p.elapsed_s)} elapsed{eta} | "
        f"trials {', '.join(counts)} | {best}"
    )
    if width is None or len(line) <= width:
        return line
    best = f"best {p.best[0]} {score(p.best[1])}" if p.best else "no result"
    line = f"epochs {p.epochs}/{p.budget} | {clock(p.elapsed_s)}{eta} | {', '.join(counts)} | {best}"
    return line[:width]
