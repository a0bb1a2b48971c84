"""What a search prints while it runs: one line per trial event and a progress line.

Ray Tune's status table reprints every trial every few seconds, with its
session paths; `SearchConsole` replaces it (`tune.run --verbose` brings the
table and the libraries' own log lines back). Lines name trials by their
number in the Optuna study ("#3"), the number `trials.parquet` and
`tune.best` use.

On a terminal the progress line is rewritten in place; elsewhere (CI logs,
files) every line is a plain line, the progress line printed when a trial
ends and at most every `progress_every_s` seconds otherwise.
"""

from __future__ import annotations

import functools
import logging
import math
import shutil
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ray.tune import Callback
from ray.tune.schedulers import AsyncHyperBandScheduler

from tune import storage
from tune.artifacts import METRIC, TRIAL_NUMBER

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


def asha_decision(scheduler, trial_id: str, epoch: int, value: float) -> RungDecision | None:
    """The decision ASHA just made on this result, read from its own rung records; None when
    the result was not a rung decision or the scheduler's records cannot be read.

    Ray calls the scheduler before the callbacks: the result is already recorded in its
    rung, and the cutoff it was compared with is that of the trials recorded before it
    (Ray 2.60 AsyncHyperBandScheduler / _Bracket).
    """
    if not isinstance(scheduler, AsyncHyperBandScheduler):
        return None
    try:
        bracket = scheduler._trial_info[trial_id]
        sign, max_t, rungs = scheduler._metric_op, scheduler._max_t, bracket._rungs
    except (AttributeError, KeyError):
        return None
    if epoch >= max_t or not sign:
        return None  # at max_t a trial stops because it is done, not by a rung
    for milestone, recorded in rungs:
        if milestone == epoch and recorded.get(trial_id) == sign * value:
            cutoff = bracket.cutoff({k: v for k, v in recorded.items() if k != trial_id})
            if cutoff is None:
                return RungDecision(epoch, value, None, False)
            return RungDecision(epoch, value, float(cutoff) / sign, bool(sign * value < cutoff))
    return None


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


def _never_fails(hook):
    """A console hook whose failure costs a line, never the search (Ray ends a search whose callback raises)."""

    @functools.wraps(hook)
    def guarded(self, *args, **kwargs):
        try:
            hook(self, *args, **kwargs)
        except Exception as error:
            if not self._failed:
                self._failed = True
                print(f"note: the search's console failed ({error!r}); the search goes on", file=sys.stderr)

    return guarded


class SearchConsole(Callback):
    """Ray Tune callback printing trial events and progress (tune.run's default output).

    It travels in the run's `tuner.pkl` (Ray pickles RunConfig callbacks): keep
    its name and module, or runs saved before a rename cannot be resumed.
    """

    def __init__(
        self,
        names: list[str],
        num_samples: int,
        max_epochs: int,
        run_path: str,
        verbose: bool = False,
        progress_every_s: float = 30.0,
    ) -> None:
        self.verbose = verbose  # Ray's table prints the progress: events only
        self._names = [n for n in names if n != TRIAL_NUMBER]
        self._num_samples, self._max_epochs, self._run_path = num_samples, max_epochs, run_path
        self._every = progress_every_s
        self._scheduler = None
        self._start = time.monotonic()
        self._tty = False
        self._live = 0  # characters of the progress line on screen (terminal only)
        self._last_progress = -math.inf
        self._epochs: dict[str, int] = {}  # trial id -> epochs done
        self._epochs_before: int | None = None  # done before this driver started (a resume)
        self._ended: dict[str, str] = {}  # trial id -> done, stopped, diverged, failed
        self._started: set[str] = set()
        self._best: tuple[str, float] | None = None
        self._failed = False

    def watch(self, scheduler) -> None:
        """The scheduler whose rung decisions the console reports."""
        self._scheduler = scheduler

    # Ray Tune's hooks (ray.tune.Callback); every one takes **info for Ray's later additions.
    @_never_fails
    def setup(self, **info) -> None:
        self._start = self._last_progress = time.monotonic()
        self._tty = _isatty(sys.stdout)

    @_never_fails
    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._baseline(trials)
        if trial.trial_id in self._started:
            return  # a retry: on_trial_recover said so
        self._started.add(trial.trial_id)
        name, params = self._name(trial), hyperparameters(trial.config, self._names)
        done = self._epochs.get(trial.trial_id, 0)
        self._event(
            f"{name} resumed after epoch {done}: {params}" if done else f"{name} started: {params}", trials
        )

    @_never_fails
    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._baseline(trials)
        epoch, value = result.get("training_iteration", 0), result.get(METRIC)
        self._epochs[trial.trial_id] = epoch
        name = self._name(trial)
        if isinstance(value, (int, float)) and math.isfinite(value):
            if self._best is None or value < self._best[1]:
                self._best = (name, value)
        if result.get("diverged"):
            self._ended[trial.trial_id] = "diverged"
            self._event(f"{name} diverged at epoch {epoch}: {last_line(result.get('error'))}", trials, True)
            return
        decision = asha_decision(self._scheduler, trial.trial_id, epoch, value) if value is not None else None
        if decision is not None:
            if decision.stopped:
                self._ended[trial.trial_id] = "stopped"
            self._event(rung_line(name, decision), trials, decision.stopped)
        else:
            self._progress(trials)

    @_never_fails
    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        if trial.trial_id in self._ended:
            return  # its stop or divergence was printed with its result
        result = trial.last_result or {}
        epoch, value = self._epochs.get(trial.trial_id, 0), result.get(METRIC)
        name, shown = self._name(trial), f"{METRIC_NAME} {score(value)}"
        if epoch >= self._max_epochs:
            self._ended[trial.trial_id] = "done"
            best = trial.metric_analysis.get(METRIC, {}).get("min")
            extra = f", best {score(best)}" if best is not None and best != value else ""
            line = f"{name} finished {epoch} epochs: {shown}{extra}"
        else:
            self._ended[trial.trial_id] = "stopped"
            asha = isinstance(self._scheduler, AsyncHyperBandScheduler)
            line = (
                f"{name} stopped by ASHA at epoch {epoch} ({shown})"
                if asha
                else f"{name} ended at epoch {epoch} of {self._max_epochs} ({shown})"
            )
        self._event(line, trials, True)

    @_never_fails
    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        done = self._epochs.get(trial.trial_id, 0)
        self._event(
            f"{self._name(trial)} failed after epoch {done} ({self._error(trial)}): restarting from its "
            f"last checkpoint (failure {trial.num_failures} of {trial.max_failures} allowed)",
            trials,
            True,
        )

    @_never_fails
    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._ended[trial.trial_id] = "failed"
        done = self._epochs.get(trial.trial_id, 0)
        folder = storage.join(self._run_path, Path(trial.path).name) if trial.path else self._run_path
        self._event(
            f"{self._name(trial)} failed after epoch {done}: {self._error(trial)} "
            f"(traceback: {storage.join(folder, 'error.txt')})",
            trials,
            True,
        )

    @_never_fails
    def on_step_end(self, iteration, trials, **info) -> None:
        self._baseline(trials)
        self._progress(trials)

    @_never_fails
    def on_experiment_end(self, trials, **info) -> None:
        self.close()

    def close(self) -> None:
        """Ends the progress line on a terminal, so that what follows starts on a clean line."""
        if self._live:
            sys.stdout.write("\r" + " " * self._live + "\r")
            sys.stdout.flush()
            self._live = 0

    def _name(self, trial) -> str:
        return label(trial.config, trial.trial_id)

    def _error(self, trial) -> str:
        text = None
        try:
            if trial.error_file and Path(trial.error_file).is_file():
                text = Path(trial.error_file).read_text()
            else:
                text = trial.get_error()
        except Exception:  # the error file of another node, a storage hiccup: say what we know
            pass
        # error.txt appends every failure, each after a "Failure # N" line: the last one counts.
        return last_line(text)

    def _baseline(self, trials) -> None:
        """Once: what the trials of a resumed run had done before this driver started."""
        if self._epochs_before is not None:
            return
        for trial in trials:
            result = trial.last_result or {}
            self._epochs[trial.trial_id] = result.get("training_iteration", 0)
            best = trial.metric_analysis.get(METRIC, {}).get("min")
            if best is not None and math.isfinite(best) and (self._best is None or best < self._best[1]):
                self._best = (self._name(trial), best)
            if trial.status in ("TERMINATED", "ERROR"):
                self._ended[trial.trial_id] = _outcome(trial, self._max_epochs)
        self._epochs_before = sum(self._epochs.values())

    def _snapshot(self, trials) -> Progress:
        ended = [self._ended.get(t.trial_id) for t in trials]
        epochs = sum(self._epochs.values())
        remaining = (
            sum(
                max(0, self._max_epochs - self._epochs.get(t.trial_id, 0))
                for t, outcome in zip(trials, ended)
                if outcome is None
            )
            + max(0, self._num_samples - len(trials)) * self._max_epochs
        )
        elapsed = time.monotonic() - self._start
        pace = (epochs - (self._epochs_before or 0)) / elapsed if elapsed > 0 else 0
        return Progress(
            epochs=epochs,
            budget=self._num_samples * self._max_epochs,
            elapsed_s=elapsed,
            eta_s=remaining / pace if pace > 0 else None,
            running=sum(t.status == "RUNNING" and o is None for t, o in zip(trials, ended)),
            done=ended.count("done"),
            stopped=ended.count("stopped"),
            diverged=ended.count("diverged"),
            failed=ended.count("failed"),
            best=self._best,
        )

    def _event(self, line: str, trials, trial_ended: bool = False) -> None:
        self.close()
        print(line, flush=True)
        self._progress(trials, force=trial_ended or self._tty)

    def _progress(self, trials, force: bool = False) -> None:
        if self.verbose:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < (1.0 if self._tty else self._every):
            return
        self._last_progress = now
        if not self._tty:
            print(progress_line(self._snapshot(trials)), flush=True)
            return
        line = progress_line(self._snapshot(trials), max(20, shutil.get_terminal_size().columns - 1))
        sys.stdout.write("\r" + line.ljust(self._live))
        sys.stdout.flush()
        self._live = len(line)


def _outcome(trial, max_epochs: int) -> str:
    """How a trial that ended before this driver started ended."""
    result = trial.last_result or {}
    if trial.status == "ERROR":
        return "failed"
    if result.get("diverged"):
        return "diverged"
    return "done" if result.get("training_iteration", 0) >= max_epochs else "stopped"


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _ReportedByConsole(logging.Filter):
    """Ray's log records that the console says in one line: a trial's failure, trials left unfinished."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("Trial task failed for trial", "Trials did not complete"))


@contextmanager
def library_output(verbose: bool):
    """Ray's and Optuna's own log lines: as they are with --verbose, else errors only.

    Ray logs through the "ray" logger (its token-authentication notice, Ray Tune's
    experiment-state warnings); Optuna announces every study it creates.
    Errors still pass, except the trial failures the console already reports.
    Ray's warning that trials cannot be placed (waiting for resources) stays:
    without it a search that cannot start looks like a hang.
    """
    if verbose:
        yield
        return
    import optuna

    # Ray's tensorboard logger (tensorboardX) warns of every inf a diverged trial reports.
    levels = {"ray": logging.ERROR, "tensorboardX": logging.ERROR}
    levels["ray.tune.execution.insufficient_resources_manager"] = logging.WARNING
    loggers = {name: logging.getLogger(name) for name in levels}
    before = {name: logger.level for name, logger in loggers.items()}
    filtered = [logging.getLogger(n) for n in ("ray.tune.execution.tune_controller", "ray.tune.tune")]
    only_unreported = _ReportedByConsole()
    verbosity = optuna.logging.get_verbosity()
    for name, logger in loggers.items():
        logger.setLevel(levels[name])
    for logger in filtered:
        logger.addFilter(only_unreported)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            # ASHA takes percentiles of a rung holding a diverged trial's inf: numpy warns.
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numpy\.")
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)
        for logger in filtered:
            logger.removeFilter(only_unreported)
        for name, logger in loggers.items():
            logger.setLevel(before[name])
