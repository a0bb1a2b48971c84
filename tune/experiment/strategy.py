"""The search strategy: what to try next (the searcher stack) and when to stop a trial (the scheduler).

The searcher stack, outermost first:

    RelocatableSearchGenerator   a resumed run creates its new trials where it lies now (relocatable.py)
      ConcurrencyLimiter         at most `max_concurrent` trials at once (Ray's)
        DeadlineSearcher         --time-budget: no new trial after the deadline (deadline.py)
          TruthfulOptunaSearch   Optuna's TPE or random sampler; the study told what happened (optuna_bridge.py)

The research configuration of the architecture is the first trial.
"""

from __future__ import annotations

import optuna
from ray import tune as ray_tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import ConcurrencyLimiter, Searcher

from au2bs.models.space import research_point
from tune.experiment.deadline import DeadlineSearcher
from tune.experiment.optuna_bridge import TruthfulOptunaSearch
from tune.experiment.relocatable import RelocatableSearchGenerator
from tune.runfolder.layout import METRIC, MODE
from tune.runfolder.settings import SearchPlan

# TPE samples at random until this many trials are in the study (Optuna's
# default). Fewer looked tempting for 12-trial searches, but the replay
# (bench/hpo_replay.py --tpe-startup 4) showed TPE then settling early on a
# poor region: README, "Search defaults".
TPE_STARTUP_TRIALS = 10


def optuna_settings(
    plan: SearchPlan, study_name: str, study_url: str | None, startup_trials: int = TPE_STARTUP_TRIALS
) -> dict:
    """The arguments of an Optuna searcher for `plan`: sampler, study, the research configuration first.

    study_url: where the study lives (an SQLite URL); None keeps it in memory.
    """
    sampler = (
        optuna.samplers.TPESampler(seed=plan.seed, multivariate=True, n_startup_trials=startup_trials)
        if plan.search == "optuna"
        else optuna.samplers.RandomSampler(seed=plan.seed)
    )
    return dict(
        sampler=sampler,
        storage=None if study_url is None else optuna.storages.RDBStorage(study_url),
        study_name=study_name,
        points_to_evaluate=[research_point(plan.arch)],
    )


def make_searcher(plan: SearchPlan, study_name: str, study_url: str | None) -> TruthfulOptunaSearch:
    return TruthfulOptunaSearch(max_epochs=plan.max_epochs, **optuna_settings(plan, study_name, study_url))


def make_scheduler(plan: SearchPlan):
    if plan.scheduler == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr="training_iteration",
        max_t=plan.max_epochs,
        grace_period=plan.grace_period,
        reduction_factor=plan.reduction_factor,
    )


def asha_rungs(plan: SearchPlan) -> list[int]:
    """The epochs at which ASHA compares trials."""
    rungs, epoch = [], plan.grace_period
    while epoch < plan.max_epochs:
        rungs.append(epoch)
        epoch *= plan.reduction_factor
    return rungs


def tune_config(plan: SearchPlan, searcher: Searcher, max_concurrent: int) -> ray_tune.TuneConfig:
    """The searcher stack around `searcher` (see the module), and the scheduler."""
    limited = ConcurrencyLimiter(
        DeadlineSearcher(searcher, plan.time_budget_s), max_concurrent=max_concurrent
    )
    return ray_tune.TuneConfig(
        metric=METRIC,
        mode=MODE,
        # Built here rather than by Ray (from max_concurrent_trials) so that a
        # resumed run creates its new trials where it lies now.
        search_alg=RelocatableSearchGenerator(limited),
        scheduler=make_scheduler(plan),
        num_samples=plan.num_samples,
    )
