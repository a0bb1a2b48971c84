"""Building the Ray Tune experiment: searcher, scheduler, resources, storage."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import ray
from ray import tune as ray_tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import ConcurrencyLimiter

from au2bs.data import SplitArrays
from au2bs.models.space import architecture_space, research_point
from tune import storage
from tune.artifacts import METRIC, MODE, OPTUNA_FILE
from tune.bridge import NumberedOptunaSearch, RelocatableSearchGenerator, TruthfulOptunaSearch
from tune.console import SearchConsole
from tune.deadline import DeadlineSearcher
from tune.options import SearchOptions
from tune.spaces import to_ray
from tune.trainable import TrialSettings, train_trial

REPORTED_METRICS = {METRIC: "val MSE", "val_r2": "val R2", "epoch": "epoch"}


def _study_file(options: SearchOptions) -> Path:
    """Where the driver keeps the study: in the run folder, or for a run behind a URI in the cache
    (SQLite needs a local file), from where `publish_study` copies it into the run folder."""
    if not storage.is_uri(options.run_path):
        return Path(options.run_path) / OPTUNA_FILE
    return storage.cache_path("optuna", options.run_path, OPTUNA_FILE)


def study_storage(options: SearchOptions) -> str:
    """SQLite URL of the Optuna study the driver writes."""
    path = _study_file(options)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def fetch_study(options: SearchOptions) -> None:
    """Before a run behind a URI resumes: its study from the run folder, unless the cache has a newer one
    (a driver killed before it could publish)."""
    if not storage.is_uri(options.run_path):
        return
    remote, local = storage.join(options.run_path, OPTUNA_FILE), _study_file(options)
    remote_time = storage.modified(remote)
    if remote_time is not None and (not local.is_file() or local.stat().st_mtime < remote_time):
        storage.copy_file(remote, str(local))


def publish_study(options: SearchOptions) -> None:
    """A run behind a URI gets its study into the run folder (end of search, interrupt)."""
    local = _study_file(options)
    if storage.is_uri(options.run_path) and local.is_file():
        storage.copy_file(str(local), storage.join(options.run_path, OPTUNA_FILE))


# TPE samples at random until this many trials are in the study (Optuna's
# default). Fewer looked tempting for 12-trial searches, but the replay
# (bench/hpo_replay.py --tpe-startup 4) showed TPE then settling early on a
# poor region: README, "Search defaults".
TPE_STARTUP_TRIALS = 10


def make_searcher(
    options: SearchOptions,
    study_url: str | None,
    bridge: str = "truthful",
    startup_trials: int = TPE_STARTUP_TRIALS,
) -> DeadlineSearcher:
    """Optuna behind Ray Tune, the research configuration first.

    Args:
        study_url: where the study lives (an SQLite URL); None keeps it in memory.
        bridge: "truthful" tells the study what each trial did (tune/bridge.py);
            "ray" is Ray's OptunaSearch as shipped (for the replay benchmark).
    """
    sampler = (
        optuna.samplers.TPESampler(seed=options.seed, multivariate=True, n_startup_trials=startup_trials)
        if options.search == "optuna"
        else optuna.samplers.RandomSampler(seed=options.seed)
    )
    settings = dict(
        sampler=sampler,
        storage=None if study_url is None else optuna.storages.RDBStorage(study_url),
        study_name=options.name,
        points_to_evaluate=[research_point(options.arch)],
    )
    if bridge == "truthful":
        searcher = TruthfulOptunaSearch(max_epochs=options.max_epochs, **settings)
    elif bridge == "ray":
        searcher = NumberedOptunaSearch(**settings)
    else:
        raise ValueError(f"unknown bridge {bridge!r}")
    return DeadlineSearcher(searcher, options.time_budget_s)


def make_scheduler(options: SearchOptions):
    if options.scheduler == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr="training_iteration",
        max_t=options.max_epochs,
        grace_period=options.grace_period,
        reduction_factor=options.reduction_factor,
    )


def asha_rungs(options: SearchOptions) -> list[int]:
    rungs, epoch = [], options.grace_period
    while epoch < options.max_epochs:
        rungs.append(epoch)
        epoch *= options.reduction_factor
    return rungs


def slots(options: SearchOptions, gpus_per_trial: float) -> int:
    """How many trials the cluster's resources hold at once."""
    resources = ray.cluster_resources()
    by_cpu = math.floor(resources.get("CPU", 1) / options.cpus_per_trial)
    if gpus_per_trial > 0:
        by_gpu = math.floor(resources.get("GPU", 0) / gpus_per_trial + 1e-9)
        return max(1, min(by_cpu, by_gpu))
    return max(1, by_cpu)


def trainable(options: SearchOptions, data: dict[str, SplitArrays], gpus_per_trial: float, provenance: dict):
    settings = TrialSettings(
        arch=options.arch,
        max_epochs=options.max_epochs,
        seed=options.seed,
        threads=max(1, int(options.cpus_per_trial)),
        gpu_share=gpus_per_trial,
        provenance=provenance,
    )
    with_data = ray_tune.with_parameters(train_trial, data=data, settings=settings)
    return ray_tune.with_resources(with_data, {"cpu": options.cpus_per_trial, "gpu": gpus_per_trial})


def run_config(options: SearchOptions, console: SearchConsole) -> ray_tune.RunConfig:
    """Storage, checkpoints and retries; the console prints the search (with --verbose Ray's table too)."""
    return ray_tune.RunConfig(
        name=options.name,
        storage_path=options.storage,
        checkpoint_config=ray_tune.CheckpointConfig(
            num_to_keep=options.keep_checkpoints,
            checkpoint_score_attribute=METRIC,
            checkpoint_score_order=MODE,
        ),
        failure_config=ray_tune.FailureConfig(max_failures=options.max_failures),
        callbacks=[console],
        **_ray_output(options, console.verbose),
    )


def _ray_output(options: SearchOptions, verbose: bool) -> dict:
    """Ray's own progress output: its status table every 15 s with --verbose, else none."""
    if not verbose:
        return {"progress_reporter": None, "verbose": 0}
    from ray.tune import CLIReporter

    reporter = CLIReporter(
        metric_columns=REPORTED_METRICS,
        parameter_columns=list(architecture_space(options.arch)),
        max_report_frequency=15,
        sort_by_metric=True,  # metric and mode come from TuneConfig
        # Ray's default reads a global that an earlier search in the process changed.
        print_intermediate_tables=True,
    )
    return {"progress_reporter": reporter, "verbose": 1}


def make_console(options: SearchOptions, verbose: bool) -> SearchConsole:
    """What the search prints while it runs (tune/console.py)."""
    return SearchConsole(
        names=list(architecture_space(options.arch)),
        num_samples=options.num_samples,
        max_epochs=options.max_epochs,
        run_path=options.run_path,
        verbose=verbose,
    )


def tune_config(
    options: SearchOptions,
    max_concurrent: int,
    study_url: str | None,
    bridge: str = "truthful",
    startup_trials: int = TPE_STARTUP_TRIALS,
) -> ray_tune.TuneConfig:
    """The searcher and scheduler of a search (bench/hpo_replay.py builds the same ones)."""
    searcher = ConcurrencyLimiter(
        make_searcher(options, study_url, bridge, startup_trials), max_concurrent=max_concurrent
    )
    return ray_tune.TuneConfig(
        metric=METRIC,
        mode=MODE,
        # Built here rather than by Ray (from max_concurrent_trials) so that a
        # resumed run creates its new trials where it lies now.
        search_alg=RelocatableSearchGenerator(searcher),
        scheduler=make_scheduler(options),
        num_samples=options.num_samples,
    )


def new_tuner(
    options, data, gpus_per_trial, provenance, max_concurrent, console: SearchConsole
) -> ray_tune.Tuner:
    config = tune_config(options, max_concurrent, study_storage(options))
    console.watch(config.scheduler)
    return ray_tune.Tuner(
        trainable(options, data, gpus_per_trial, provenance),
        param_space=to_ray(architecture_space(options.arch)),
        tune_config=config,
        run_config=run_config(options, console),
    )


def restored_tuner(options, data, gpus_per_trial, provenance, console: SearchConsole) -> ray_tune.Tuner:
    tuner = ray_tune.Tuner.restore(
        options.run_path,
        trainable=trainable(options, data, gpus_per_trial, provenance),
        resume_unfinished=True,
        resume_errored=True,
    )
    # Ray restores the RunConfig saved with the run (its console, or for a run saved
    # before the console existed, Ray's table); Tuner.restore takes no new one, so this
    # driver's output settings replace the saved ones on the restored tuner itself.
    restored = getattr(tuner, "_local_tuner", None)
    if restored is not None:
        console.watch(restored._tune_config.scheduler)
        saved = restored.get_run_config()
        saved.callbacks = [console]
        for key, value in _ray_output(options, console.verbose).items():
            setattr(saved, key, value)
    return tuner
