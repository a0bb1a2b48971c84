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
import math
import shutil
import sys
import time
from pathlib import Path

from ray.tune import Callback
from ray.tune.schedulers import AsyncHyperBandScheduler

from tune.console.asha import asha_decision
from tune.console.lines import (
    METRIC_NAME,
    Progress,
    hyperparameters,
    label,
    last_line,
    progress_line,
    rung_line,
    score,
)
from tune.outcome import CONSOLE_WORDS, Outcome, trial_outcome
from tune.runfolder import storage
from tune.runfolder.layout import ERROR_FILE, METRIC


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
        self._names = list(names)
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
            self._ended[trial.trial_id] = CONSOLE_WORDS[Outcome.DIVERGED]
            self._event(f"{name} diverged at epoch {epoch}: {last_line(result.get('error'))}", trials, True)
            return
        decision = asha_decision(self._scheduler, trial.trial_id, epoch, value) if value is not None else None
        if decision is not None:
            if decision.stopped:
                self._ended[trial.trial_id] = CONSOLE_WORDS[Outcome.STOPPED]
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
        outcome = trial_outcome(epoch, self._max_epochs, ended=True, errored=False, diverged=False)
        self._ended[trial.trial_id] = CONSOLE_WORDS[outcome]
        if outcome is Outcome.COMPLETED:
            best = trial.metric_analysis.get(METRIC, {}).get("min")
            extra = f", best {score(best)}" if best is not None and best != value else ""
            line = f"{name} finished {epoch} epochs: {shown}{extra}"
        else:
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
        self._ended[trial.trial_id] = CONSOLE_WORDS[Outcome.ERRORED]
        done = self._epochs.get(trial.trial_id, 0)
        folder = storage.join(self._run_path, Path(trial.path).name) if trial.path else self._run_path
        self._event(
            f"{self._name(trial)} failed after epoch {done}: {self._error(trial)} "
            f"(traceback: {storage.join(folder, ERROR_FILE)})",
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
            done=ended.count(CONSOLE_WORDS[Outcome.COMPLETED]),
            stopped=ended.count(CONSOLE_WORDS[Outcome.STOPPED]),
            diverged=ended.count(CONSOLE_WORDS[Outcome.DIVERGED]),
            failed=ended.count(CONSOLE_WORDS[Outcome.ERRORED]),
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
    """How a trial that ended before this driver started ended, in the progress line's words."""
    result = trial.last_result or {}
    outcome = trial_outcome(
        result.get("training_iteration", 0),
        max_epochs,
        ended=True,
        errored=trial.status == "ERROR",
        diverged=bool(result.get("diverged")),
    )
    return CONSOLE_WORDS[outcome]


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
