"""`--time-budget`: stop starting trials after a deadline; running ones finish.

Ray's own `time_budget_s` kills every running trial when it expires. A
user with a budget wants the opposite: no new trials, clean ends for the
ones already running. This wrapper answers FINISHED once the deadline has
passed, which is how a searcher tells Tune that no trials are left.
"""

from __future__ import annotations

import time

from ray.tune.search import Searcher


class DeadlineSearcher(Searcher):
    """Delegates to `searcher` until `budget_s` seconds after the first suggestion."""

    def __init__(self, searcher: Searcher, budget_s: float | None) -> None:
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher = searcher
        self.budget_s = budget_s
        self._deadline: float | None = None

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        return self.searcher.set_max_concurrency(max_concurrent)

    @property
    def metric(self):
        return self.searcher.metric

    @property
    def mode(self):
        return self.searcher.mode

    def suggest(self, trial_id: str):
        if self.budget_s is not None:
            now = time.monotonic()
            self._deadline = self._deadline or now + self.budget_s
            if now >= self._deadline:
                return Searcher.FINISHED
        return self.searcher.suggest(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        self.searcher.on_trial_complete(trial_id, result=result, error=error)

    def add_evaluated_point(self, *args, **kwargs):
        return self.searcher.add_evaluated_point(*args, **kwargs)

    # A restored run gets a fresh budget: the deadline is wall time of this invocation.
    def get_state(self) -> dict:
        return {"budget_s": self.budget_s}

    def set_state(self, state: dict) -> None:
        self.budget_s = state["budget_s"]
        self._deadline = None

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)
        self._deadline = None
