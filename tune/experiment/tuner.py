"""Building the Ray Tune experiment: the trainable with its data and resources, storage, output.

A new search gets a fresh Tuner; a resumed one gets Ray's restored Tuner,
pointed at where the run lies now and given this driver's console.
"""

from __future__ import annotations

from ray import tune as ray_tune

from au2bs.data import SplitArrays
from au2bs.models.space import architecture_space
from tune.console.callback import SearchConsole
from tune.experiment import old_paths
from tune.experiment.spaces import to_ray
from tune.experiment.strategy import make_searcher, tune_config
from tune.experiment.trainable import TrialSettings, train_trial
from tune.runfolder.layout import METRIC, MODE
from tune.runfolder.settings import SearchOptions
from tune.runfolder.study import study_url

REPORTED_METRICS = {METRIC: "val MSE", "val_r2": "val R2", "epoch": "epoch"}


def trainable(options: SearchOptions, data: dict[str, SplitArrays], gpus_per_trial: float, provenance: dict):
    plan, resources = options.plan, options.resources
    settings = TrialSettings(
        arch=plan.arch,
        max_epochs=plan.max_epochs,
        seed=plan.seed,
        threads=max(1, int(resources.cpus_per_trial)),
        gpu_share=gpus_per_trial,
        provenance=provenance,
    )
    with_data = ray_tune.with_parameters(train_trial, data=data, settings=settings)
    return ray_tune.with_resources(with_data, {"cpu": resources.cpus_per_trial, "gpu": gpus_per_trial})


def run_config(options: SearchOptions, console: SearchConsole) -> ray_tune.RunConfig:
    """Storage, checkpoints and retries; the console prints the search (with --verbose Ray's table too)."""
    return ray_tune.RunConfig(
        name=options.place.name,
        storage_path=options.place.storage,
        checkpoint_config=ray_tune.CheckpointConfig(
            num_to_keep=options.place.keep_checkpoints,
            checkpoint_score_attribute=METRIC,
            checkpoint_score_order=MODE,
        ),
        failure_config=ray_tune.FailureConfig(max_failures=options.resources.max_failures),
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
        parameter_columns=list(architecture_space(options.plan.arch)),
        max_report_frequency=15,
        sort_by_metric=True,  # metric and mode come from TuneConfig
        # Ray's default reads a global that an earlier search in the process changed.
        print_intermediate_tables=True,
    )
    return {"progress_reporter": reporter, "verbose": 1}


def make_console(options: SearchOptions, verbose: bool) -> SearchConsole:
    """What the search prints while it runs (tune/console/)."""
    return SearchConsole(
        names=list(architecture_space(options.plan.arch)),
        num_samples=options.plan.num_samples,
        max_epochs=options.plan.max_epochs,
        run_path=options.run_path,
        verbose=verbose,
    )


def new_tuner(
    options, data, gpus_per_trial, provenance, max_concurrent, console: SearchConsole
) -> ray_tune.Tuner:
    searcher = make_searcher(options.plan, options.place.name, study_url(options.run_path))
    config = tune_config(options.plan, searcher, max_concurrent)
    console.watch(config.scheduler)
    return ray_tune.Tuner(
        trainable(options, data, gpus_per_trial, provenance),
        param_space=to_ray(architecture_space(options.plan.arch)),
        tune_config=config,
        run_config=run_config(options, console),
    )


def restored_tuner(options, data, gpus_per_trial, provenance, console: SearchConsole) -> ray_tune.Tuner:
    """Ray's restored Tuner of the run at `options.run_path`, searching where the run lies now."""
    old_paths.register()  # a run saved before tune/'s sub-packages names their old modules
    tuner = ray_tune.Tuner.restore(
        options.run_path,
        trainable=trainable(options, data, gpus_per_trial, provenance),
        resume_unfinished=True,
        resume_errored=True,
    )
    tune_settings, saved = restored_settings(tuner)
    tune_settings.search_alg.relocate(study_url(options.run_path), options.place.storage)
    console.watch(tune_settings.scheduler)
    # Ray restores the RunConfig saved with the run (its console, or for a run saved
    # before the console existed, Ray's table); Tuner.restore takes no new one, so this
    # driver's output settings replace the saved ones on the restored tuner itself.
    saved.callbacks = [console]
    for key, value in _ray_output(options, console.verbose).items():
        setattr(saved, key, value)
    return tuner


def restored_settings(tuner: ray_tune.Tuner) -> tuple[ray_tune.TuneConfig, ray_tune.RunConfig]:
    """The TuneConfig and RunConfig a restored Tuner carries.

    Ray offers no public way to change them after `Tuner.restore`; this is the one
    place that reads its private `_local_tuner` (Ray 2.60's TunerInternal). A Ray
    without it fails here, loudly, and in tests/unit/test_ray_internals.py.
    """
    internal = getattr(tuner, "_local_tuner", None)
    if internal is None or not hasattr(internal, "_tune_config"):
        raise RuntimeError(
            "this Ray's Tuner has no _local_tuner._tune_config: tune/experiment/tuner.py needs updating"
        )
    return internal._tune_config, internal.get_run_config()
