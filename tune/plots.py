"""`tune.best --plots`: the figures a person would rather look at than read."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from au2bs.constants import LIVELINK_NAMES  # noqa: E402
from au2bs.models.space import architecture_space  # noqa: E402
from au2bs.search_space import LogUniform  # noqa: E402
from tune.artifacts import METRIC, best_column, config_column  # noqa: E402
from tune.inspect_run import Run  # noqa: E402

KEY_CHANNELS = ("JawOpen", "EyeBlinkLeft", "MouthSmileLeft")


def draw_all(run: Run, predictions: list[np.ndarray], test, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        learning_curves(run, folder / "learning_curves.png"),
        metric_vs_hyperparameters(run, folder / "metric_vs_hyperparameters.png"),
        importances(run, folder / "importances.png"),
        predicted_vs_true(predictions, test, folder / "predicted_vs_true.png"),
    ]


def learning_curves(run: Run, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(8, 5))
    histories = run.histories
    for _, trial in run.trials.iterrows():
        history = histories.get(trial["trial_id"])
        if history is None or METRIC not in history:
            continue
        history = history[history[METRIC].apply(math.isfinite)]
        if history.empty:
            continue
        style = (
            {"color": "black", "linewidth": 2.5, "zorder": 3} if trial["research_config"] else {"alpha": 0.7}
        )
        (line,) = axis.plot(history["epoch"], history[METRIC], **style)
        if trial["status"] == "stopped early (ASHA)":
            axis.plot(
                history["epoch"].iloc[-1],
                history[METRIC].iloc[-1],
                "x",
                color=line.get_color(),
                markersize=10,
                mew=2,
            )
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation MSE (52 blendshapes)")
    axis.set_title(
        f"{run.options.arch}: learning curves (x = stopped by ASHA, black = research configuration)"
    )
    return _save(figure, path)


def metric_vs_hyperparameters(run: Run, path: Path) -> Path:
    space = architecture_space(run.options.arch)
    trials = run.trials[run.trials[best_column()].apply(math.isfinite)]
    figure, axes = plt.subplots(1, len(space), figsize=(4 * len(space), 4), squeeze=False)
    for axis, (name, domain) in zip(axes[0], space.items()):
        column = config_column(name)
        colors = ["black" if research else "tab:blue" for research in trials["research_config"]]
        axis.scatter(trials[column], trials[best_column()], c=colors)
        if isinstance(domain, LogUniform):
            axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel(name)
    axes[0][0].set_ylabel("best validation MSE")
    figure.suptitle(
        f"{run.options.arch}: best validation MSE per trial against each hyperparameter (black = research)"
    )
    return _save(figure, path)


def importances(run: Run, path: Path) -> Path:
    import optuna

    figure, axis = plt.subplots(figsize=(7, 4))
    values: dict[str, float] = {}
    if run.study_url:
        study = optuna.load_study(study_name=run.options.name, storage=run.study_url)
        try:
            values = optuna.importance.get_param_importances(study)
        except (RuntimeError, ValueError) as error:  # too few finished trials
            axis.text(0.5, 0.5, f"importances unavailable:\n{error}", ha="center", va="center", wrap=True)
    if values:
        names = list(values)[::-1]
        axis.barh(names, [values[n] for n in names], color="tab:green")
        axis.set_xlabel("importance (Optuna, share of the total)")
    elif not run.study_url:
        axis.text(0.5, 0.5, "no Optuna study stored with this run", ha="center", va="center")
    axis.set_title(f"{run.options.arch}: hyperparameter importances")
    return _save(figure, path)


def predicted_vs_true(predictions: list[np.ndarray], test, path: Path) -> Path:
    index = int(np.argmax(test.lengths))  # the longest test utterance shows the most motion
    truth = test.sequence(index)[1]
    predicted = predictions[index]
    time = np.arange(len(truth)) / 60.0
    figure, axes = plt.subplots(len(KEY_CHANNELS), 1, figsize=(10, 2.6 * len(KEY_CHANNELS)), sharex=True)
    for axis, channel in zip(axes, KEY_CHANNELS):
        column = LIVELINK_NAMES.index(channel)
        axis.plot(time, truth[:, column], color="black", label="true")
        axis.plot(time, predicted[:, column], color="tab:orange", label="predicted")
        axis.set_ylabel(channel)
    axes[0].legend(loc="upper right")
    axes[-1].set_xlabel("seconds")
    figure.suptitle(f"test utterance {test.ids[index]}: predicted and true")
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
