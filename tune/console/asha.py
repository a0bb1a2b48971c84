"""ASHA's decision on a result, read from the scheduler's own rung records, never guessed.

The one reader of Ray's private ASHA state (`_trial_info`, `_rungs`,
`_metric_op`, `_max_t`, `_Bracket.cutoff` of Ray 2.60): when Ray changes them,
`asha_decision` answers None (the console then prints no rung lines) and
tests/unit/test_ray_internals.py fails, naming what moved.
"""

from __future__ import annotations

from ray.tune.schedulers import AsyncHyperBandScheduler

from tune.console.lines import RungDecision


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
