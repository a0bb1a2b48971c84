"""Ray's and Optuna's own log lines during a search: all of them with --verbose, else errors only."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager


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
