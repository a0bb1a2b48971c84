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

import copy
import math
import pickle

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState
from ray.tune.search import Searcher, SearchGenerator
from ray.tune.search.optuna import OptunaSearch

from tune.artifacts import TRIAL_NUMBER

OUTCOME_ATTR = "outcome"
RAY_TRIAL_ATTR = "ray_trial_id"


# Where a resumed run lies now (tune.run sets it before Tuner.restore): a run
# that was moved or copied must not write its study, or its new trials, at
# its old place.
_resumed_study_url: str | None = None
_resumed_storage: str | None = None


def resume_at(study_url: str, storage: str) -> None:
    global _resumed_study_url, _resumed_storage
    _resumed_study_url, _resumed_storage = study_url, storage


class RelocatableSearchGenerator(SearchGenerator):
    """Ray's SearchGenerator, whose restored state points new trials at the run's current storage.

    Ray restores the generator's experiment, and with it the storage new
    trials are created in, from the saved state: a moved run would start its
    remaining trials at its old place (and fail there). The trials Ray
    restores are repointed by Ray itself.
    """

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        if _resumed_storage is None or self._experiment is None:
            return
        from ray.train._internal.storage import get_fs_and_path

        storage = copy.copy(self._experiment.storage)
        storage.storage_filesystem, storage.storage_fs_path = get_fs_and_path(_resumed_storage, None)
        self._experiment.storage = storage
        self._experiment.spec["storage"] = storage


class NumberedOptunaSearch(OptunaSearch):
    """Ray's `OptunaSearch` as shipped, plus each trial's Optuna number in its config.

    It also pickles its study as a URL, not as an open SQLite connection, so
    a resumed run reopens the study where the run lies now.
    """

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if isinstance(self._storage, RDBStorage):
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
        self.__dict__.update(state)
        if url is None:
            return
        self._storage = RDBStorage(_resumed_study_url or url)
        if had_study:
            self._ot_study = optuna.load_study(
                study_name=self._study_name,
                storage=self._storage,
                sampler=self._sampler,
                pruner=optuna.pruners.NopPruner(),
            )
            self._ot_trials = {
                ray_id: optuna.trial.Trial(self._ot_study, trial_id)
                for ray_id, trial_id in self._ot_trials.items()
            }

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.__getstate__(), handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.__setstate__(pickle.load(handle))

    def suggest(self, trial_id: str):
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
        if trial_id not in self._completed_trials:
            self._report(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
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
        if error:
            return TrialState.FAIL, None, "errored"
        steps = self._steps(trial_id) if steps is None else steps
        if not result or not steps:
            return TrialState.PRUNED, None, "stopped before its first epoch"
        last = max(steps)
        if result.get("diverged"):
            return TrialState.COMPLETE, math.inf, f"diverged at epoch {last}"
        if last < self.max_epochs:
            return TrialState.PRUNED, None, f"stopped by the scheduler at epoch {last}"
        finite = [v for v in steps.values() if math.isfinite(v)]
        return TrialState.COMPLETE, min(finite, default=math.inf), "completed"
