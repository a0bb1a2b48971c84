"""`tune.best --plots`: the figures a person would rather look at than read."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullFormatter  # noqa: E402

from au2bs.constants import LIVELINK_NAMES  # noqa: E402
from au2bs.models.space import architecture_space  # noqa: E402
from au2bs.search_space import LogUniform  # noqa: E402
from tune.outcome import Outcome  # noqa: E402
from tune.runfolder.layout import METRIC, best_column, config_column  # noqa: E402
from tune.runfolder.run import Run  # noqa: E402

KEY_CHANNELS = ("JawOpen", "EyeBlinkLeft", "MouthSmileLeft")
BEST_COLOR = "tab:red"  # the best trial, in every figure
# The other trials' lines: matplotlib's default cycle without the best trial's red and the research black.
OTHER_COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
)
LEGEND_TRIALS = 12  # up to this many trials the learning curves name each in the legend
PANELS_PER_ROW = 3  # metric-vs-hyperparameter panels: wrapped, not a long strip


def draw_all(run: Run, predictions: list[np.ndarray], test, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        learning_curves(run, folder / "learning_curves.png"),
        metric_vs_hyperparameters(run, folder / "metric_vs_hyperparameters.png"),
        importances(run, folder / "importances.png"),
        predicted_vs_true(predictions, test, folder / "predicted_vs_true.png"),
    ]


def learning_curves(run: Run, path: Path) -> Path:
    return save(learning_curves_figure(run), path)


def learning_curves_figure(run: Run) -> Figure:
    """Validation MSE per epoch of every trial; the best trial thick and labelled, the research
    configuration black, trials ASHA stopped marked x at their last epoch."""
    figure, axis = plt.subplots(figsize=(9, 5.5))
    axis.set_prop_cycle(color=OTHER_COLORS)
    histories = run.histories
    best_id = run.best["trial_id"] if run.has_result else None
    # Few enough trials to name each in the legend; otherwise one entry for them all.
    name_each = len(run.trials) <= LEGEND_TRIALS
    others_labelled = stopped_labelled = False
    for _, trial in run.trials.iterrows():
        history = histories.get(trial["trial_id"])
        if history is None or METRIC not in history:
            continue
        history = history[history[METRIC].apply(math.isfinite)]
        if history.empty:
            continue
        research = " (research configuration)" if trial["research_config"] else ""
        if trial["trial_id"] == best_id:
            style = {"color": BEST_COLOR, "linewidth": 3.5, "zorder": 4}
            label = f"best: trial {trial['trial_id']}{research}"
        elif research:
            style = {"color": "black", "linewidth": 2.5, "zorder": 3}
            label = f"trial {trial['trial_id']}{research}"
        else:
            style = {"alpha": 0.8, "linewidth": 1.2} if name_each else {"color": "tab:blue", "alpha": 0.5}
            label = f"trial {trial['trial_id']}" if name_each else "_" if others_labelled else "other trials"
            others_labelled = True
        marker = "o" if len(history) == 1 else None  # a single epoch is no line
        (line,) = axis.plot(history["epoch"], history[METRIC], label=label, marker=marker, **style)
        if trial["status"] == Outcome.STOPPED.value:
            axis.plot(
                history["epoch"].iloc[-1],
                history[METRIC].iloc[-1],
                "x",
                color=line.get_color(),
                markersize=10,
                mew=2,
                zorder=5,
                label=None if stopped_labelled else "stopped by ASHA",
            )
            stopped_labelled = True
    axis.set_yscale("log")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation MSE (52 blendshapes)")
    axis.set_title(f"{run.options.plan.arch}: learning curves")
    if axis.get_legend_handles_labels()[0]:
        axis.legend(loc="best", fontsize="small", ncols=2 if len(run.trials) > LEGEND_TRIALS // 2 else 1)
    return figure


def metric_vs_hyperparameters(run: Run, path: Path) -> Path:
    return save(metric_vs_hyperparameters_figure(run), path)


def metric_vs_hyperparameters_figure(run: Run) -> Figure:
    """Each trial's best validation MSE against each hyperparameter, one panel per hyperparameter
    (at most 3 to a row); the best trial a red star in every panel, the research configuration black."""
    space = architecture_space(run.options.plan.arch)
    trials = run.trials[run.trials[best_column()].apply(math.isfinite)]
    best = trials[trials["trial_id"] == run.best["trial_id"]] if run.has_result else trials.iloc[:0]
    rows = math.ceil(len(space) / PANELS_PER_ROW)
    columns = math.ceil(len(space) / rows)  # 4 panels: 2 x 2 rather than 3 + 1
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.6 * rows + 0.6), squeeze=False, sharey=True
    )
    others = trials[~trials["research_config"]]
    research = trials[trials["research_config"]]
    for axis, (name, domain) in zip(axes.flat, space.items()):
        column = config_column(name)
        axis.scatter(others[column], others[best_column()], color="tab:blue", label="trial")
        axis.scatter(research[column], research[best_column()], color="black", label="research configuration")
        axis.scatter(
            best[column],
            best[best_column()],
            marker="*",
            s=320,
            facecolors="none",
            edgecolors=BEST_COLOR,
            linewidths=2,
            zorder=4,
            label="best trial",
        )
        if isinstance(domain, LogUniform):
            axis.set_xscale("log")
            axis.xaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks overlap
        axis.set_yscale("log")
        axis.margins(0.1)  # markers at the edges stay whole
        axis.set_xlabel(name)
    for axis in axes.flat[len(space) :]:
        axis.set_visible(False)
    for row in axes:
        row[0].set_ylabel("best validation MSE")
    axes[0][0].legend(loc="best", fontsize="small")
    figure.suptitle(f"{run.options.plan.arch}: best validation MSE per trial against each hyperparameter")
    return figure


def importances(run: Run, path: Path) -> Path:
    import optuna

    figure, axis = plt.subplots(figsize=(7, 4))
    values: dict[str, float] = {}
    if run.study_url:
        study = optuna.load_study(study_name=run.options.place.name, storage=run.study_url)
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
    axis.set_title(f"{run.options.plan.arch}: hyperparameter importances")
    return save(figure, path)


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
    return save(figure, path)


def save(figure, path: Path) -> Path:
    """Writes a figure as tune.best's and tune.compare's PNGs are written, and frees it."""
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
