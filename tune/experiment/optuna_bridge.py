"""What the Optuna study learns from each Ray Tune trial.

Ray's `OptunaSearch` tells the study COMPLETE whenever a trial has a result,
with its last value: a trial ASHA stopped at epoch 1 then enters TPE as if
its epoch-1 MSE were final, and the last epoch never becomes an
intermediate value. `TruthfulOptunaSearch` tells the study what happened:

- every epoch a trial ran is an intermediate value (step = epoch), the last
  one included;
- a trial the scheduler stopped before `max_epochs` is PRUNED (Optuna then
  records its last intermediate value, and TPE ranks it by how far it got);
- a trial that ran every epoch is COMPLETE with its best validation MSE over
  epochs, the value its best checkpoint holds;
- a diverged trial is COMPLETE with +inf, so TPE counts its region among the
  bad ones instead of forgetting it;
- a trial that errored is FAIL.

Each Optuna trial also records its Ray trial id and its outcome in words
(user attributes `ray_trial_id` and `outcome`), for dashboards and tests.

Both searchers add the Optuna trial number to every configuration they
suggest (`TRIAL_NUMBER`): trials derive their seed from the search seed and
that number, so the same command gives the same seeds.
"""

from __future__ import annotations

import math
import pickle

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from tune.outcome import Outcome, describe, trial_outcome
from tune.runfolder.layout import TRIAL_NUMBER

OUTCOME_ATTR = "outcome"
RAY_TRIAL_ATTR = "ray_trial_id"
# What the study is told for each outcome (a diverged trial's value is +inf, a completed one its best epoch's).
STUDY_STATES = {
    Outcome.ERRORED: TrialState.FAIL,
    Outcome.STOPPED: TrialState.PRUNED,
    Outcome.DIVERGED: TrialState.COMPLETE,
    Outcome.COMPLETED: TrialState.COMPLETE,
}


class NumberedOptunaSearch(OptunaSearch):
    """Ray's `OptunaSearch` as shipped, plus each trial's Optuna number in its config.

    It pickles its study as a URL, not as an open SQLite connection, and
    reopens it only when it is next used: a resumed run calls `relocate` with
    where the run lies now before that, so a moved or copied run never opens
    (or creates) a study at its old place.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict | None = None  # a study to reopen (after unpickling)
        self._relocated_url: str | None = None

    def relocate(self, study_url: str) -> None:
        """The study's URL where the run lies now; used when the pickled study is reopened."""
        self._relocated_url = study_url

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        pending = state.pop("_pending", None)
        state.pop("_relocated_url", None)
        if pending is not None:  # saved again before it was reopened
            state.update(_storage=None, _ot_study=None, **pending)
            state["_study_url"] = self._relocated_url or pending["_study_url"]
        elif isinstance(self._storage, RDBStorage):
            state.update(
                _storage=None,
                _ot_study=None,
                _ot_trials={ray_id: trial._trial_id for ray_id, trial in self._ot_trials.items()},
                _study_url=self._storage.url,
                _had_study=self._ot_study is not None,
            )
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        url, had_study = state.pop("_study_url", None), state.pop("_had_study", False)
        relocated = self.__dict__.get("_relocated_url")  # `restore` onto a relocated searcher keeps it
        self.__dict__.update(state)
        self._relocated_url = relocated
        self._pending = (
            None
            if url is None
            else {"_study_url": url, "_had_study": had_study, "_ot_trials": state.get("_ot_trials", {})}
        )

    def _open(self) -> None:
        """Reopens the pickled study, at the relocated URL when there is one."""
        if self._pending is None:
            return
        pending, self._pending = self._pending, None
        self._storage = RDBStorage(self._relocated_url or pending["_study_url"])
        if pending["_had_study"]:
            self._ot_study = optuna.load_study(
                study_name=self._study_name,
                storage=self._storage,
                sampler=self._sampler,
                pruner=optuna.pruners.NopPruner(),
            )
            self._ot_trials = {
                ray_id: optuna.trial.Trial(self._ot_study, trial_id)
                for ray_id, trial_id in pending["_ot_trials"].items()
            }

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        self._open()
        return super().set_search_properties(metric, mode, config, **spec)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self._open()
        super().on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self._open()
        super().on_trial_complete(trial_id, result=result, error=error)

    def add_evaluated_point(self, *args, **kwargs):
        self._open()
        return super().add_evaluated_point(*args, **kwargs)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.__getstate__(), handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.__setstate__(pickle.load(handle))

    def suggest(self, trial_id: str):
        self._open()
        config = super().suggest(trial_id)
        if config is None or config == Searcher.FINISHED:
            return config
        ot_trial = self._ot_trials[trial_id]
        ot_trial.set_user_attr(RAY_TRIAL_ATTR, trial_id)
        return {**config, TRIAL_NUMBER: ot_trial.number}


class TruthfulOptunaSearch(NumberedOptunaSearch):
    """Tells the study PRUNED, COMPLETE (best epoch), diverged (+inf) or FAIL; see the module."""

    def __init__(self, *, max_epochs: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_epochs = max_epochs

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self._open()
        if trial_id not in self._completed_trials:
            self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self._open()
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        # Ray passes a trial's last result here and never to on_trial_result.
        steps = self._report(trial_id, result) if result else None
        state, value, outcome = self._verdict(trial_id, result, error, steps)
        ot_trial = self._ot_trials[trial_id]
        ot_trial.set_user_attr(OUTCOME_ATTR, outcome)
        self._ot_study.tell(ot_trial, value, state=state)
        self._completed_trials.add(trial_id)

    # -- helpers ---------------------------------------------------------------

    def _steps(self, trial_id: str) -> dict[int, float]:
        """The intermediate values in the study's storage (the pickled trial can be stale after a resume)."""
        storage = self._ot_study._storage
        return storage.get_trial(self._ot_trials[trial_id]._trial_id).intermediate_values

    def _report(self, trial_id: str, result: dict) -> dict[int, float] | None:
        """Writes the result's epoch into the study; returns the trial's steps after it (None: no value)."""
        value = result.get(self.metric)
        step = result.get("epoch", result.get("training_iteration"))
        if value is None or step is None:
            return None
        value = float(value)
        if math.isnan(value):
            value = math.inf  # a NaN cannot be ranked; a diverged epoch is the worst value
        step = int(step)
        steps = self._steps(trial_id)
        # An epoch redone after a restart (its checkpoint was lost) keeps its first value.
        if step not in steps:
            self._ot_study._storage.set_trial_intermediate_value(
                self._ot_trials[trial_id]._trial_id, step, value
            )
            steps = {**steps, step: value}
        return steps

    def _verdict(
        self, trial_id: str, result: dict | None, error: bool, steps: dict[int, float] | None = None
    ) -> tuple[TrialState, float | None, str]:
        """`steps`: the trial's intermediate values when the caller has just read them."""
        if not error:
            steps = self._steps(trial_id) if steps is None else steps
        epochs = max(steps) if steps and result else 0
        outcome = trial_outcome(
            epochs,
            self.max_epochs,
            ended=True,
            errored=error,
            diverged=bool(epochs and result.get("diverged")),
        )
        value = None
        if outcome is Outcome.DIVERGED:
            value = math.inf
        elif outcome is Outcome.COMPLETED:
            value = min((v for v in steps.values() if math.isfinite(v)), default=math.inf)
        return STUDY_STATES[outcome], value, describe(outcome, epochs)
