"""How a trial ended: one vocabulary for the study, the trials table and the console.

The same five outcomes are decided once, by `trial_outcome`, from what every
reader knows (epochs trained, whether the trial ended, errored or diverged);
each reader then says it in its own place:

- the trials table's `status` column: the outcome's value ("completed",
  "stopped early (ASHA)", ...), which `tune.best` lists;
- the Optuna study: `describe` ("stopped by the scheduler at epoch 3") as the
  trial's `outcome` attribute, and the state the bridge tells the study;
- the console's progress counts: `CONSOLE_WORDS` ("done", "stopped", ...).
"""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    COMPLETED = "completed"  # trained every epoch of the budget
    STOPPED = "stopped early (ASHA)"  # ended by the scheduler before the budget
    DIVERGED = "diverged"  # the loss went non-finite; reported as +inf
    ERRORED = "errored"  # failed, out of retries
    UNFINISHED = "unfinished"  # still running, or its search was interrupted


def trial_outcome(epochs: int, max_epochs: int, *, ended: bool, errored: bool, diverged: bool) -> Outcome:
    """The outcome of a trial that trained `epochs` of `max_epochs`; `ended`: it will train no more."""
    if errored:
        return Outcome.ERRORED
    if diverged:
        return Outcome.DIVERGED
    if epochs >= max_epochs:
        return Outcome.COMPLETED
    return Outcome.STOPPED if ended else Outcome.UNFINISHED


def describe(outcome: Outcome, epochs: int) -> str:
    """The outcome with its epoch, as the study records it ("diverged at epoch 2")."""
    if outcome is Outcome.STOPPED:
        return f"stopped by the scheduler at epoch {epochs}" if epochs else "stopped before its first epoch"
    if outcome is Outcome.DIVERGED:
        return f"diverged at epoch {epochs}"
    return outcome.value


# The console counts trials by these words in its progress line.
CONSOLE_WORDS = {
    Outcome.COMPLETED: "done",
    Outcome.STOPPED: "stopped",
    Outcome.DIVERGED: "diverged",
    Outcome.ERRORED: "failed",
}
