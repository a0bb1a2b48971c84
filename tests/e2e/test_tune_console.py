"""tune.run's console: one line per trial event and a progress line, not Ray's table (unless --verbose)."""

from __future__ import annotations

import io
import logging
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from tune_helpers import small_dataset

from tune.console.asha import asha_decision
from tune.console.callback import SearchConsole
from tune.console.lines import (
    Progress,
    RungDecision,
    clock,
    distinct,
    hyperparameters,
    label,
    last_line,
    number,
    progress_line,
    rung_line,
    score,
)
from tune.experiment.library_output import library_output
from tune.run import main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return small_dataset(tmp_path_factory.mktemp("console"))


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def library_lines():
    """The log records that reach Ray's and Optuna's own handlers: the lines they print.

    (Their handlers hold the stream they found at import, which capsys cannot see.)
    """
    records = _Records()
    loggers = [logging.getLogger(name) for name in ("ray", "optuna")]
    for logger in loggers:
        logger.addHandler(records)
    yield records.records
    for logger in loggers:
        logger.removeHandler(records)


def _search(dataset, tmp_path, *flags: str) -> list[str]:
    args = ["--arch", "fcnet", "--data", str(dataset), "--num-samples", "4", "--max-epochs", "3"]
    assert main([*args, "--storage", str(tmp_path), "--name", "x", *flags]) == 0
    return args


@pytest.mark.slow
def test_a_search_prints_its_events_and_progress_not_rays_table(dataset, tmp_path, capsys, library_lines):
    _search(dataset, tmp_path)
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    for noise in (
        "\r",
        "/tmp/ray",
        "Token authentication",
        "A new study created",
        "Trial status",
        "== Status ==",
    ):
        assert noise not in printed, noise
    lines = printed.splitlines()
    started = [
        int(m[1]) for line in lines if (m := re.match(r"#(\d+) started: hidden_size=\S+ dropout=", line))
    ]
    assert sorted(started) == [0, 1, 2, 3]
    ended = {int(m[1]): m[2] for line in lines if (m := re.match(r"#(\d+) (finished|stopped) ", line))}
    assert sorted(ended) == [0, 1, 2, 3]
    assert any(line.startswith("progress: epochs ") and "/12 |" in line for line in lines)
    assert "best configuration of fcnet" in printed
    assert len(lines) < 60, printed
    # What the console said ASHA did is what the run recorded.
    trials = pd.read_parquet(tmp_path / "x" / "trials.parquet")
    statuses = dict(zip(trials["study_trial"], trials["status"]))
    for trial, word in ended.items():
        assert statuses[trial] == ("completed" if word == "finished" else "stopped early (ASHA)"), printed
    for line in lines:
        if " stopped at epoch " in line:
            assert re.search(r"val MSE \S+ worse than the rung's cutoff \S+$", line), line
    assert captured.err == "", captured.err
    assert [record.getMessage() for record in library_lines] == []


@pytest.mark.slow
def test_verbose_brings_back_rays_table(dataset, tmp_path, capsys, library_lines):
    _search(dataset, tmp_path, "--verbose")
    captured = capsys.readouterr()
    assert "| Trial name" in captured.out and "best configuration of fcnet" in captured.out
    assert len(re.findall(r"^#\d+ started: ", captured.out, re.M)) == 4  # the events as well
    assert any("A new study created" in record.getMessage() for record in library_lines)


def test_numbers_are_short():
    assert [number(v) for v in (128, 0.31, 0.0416, 0.0032, 0.001, 5.85e-4, 12345.0, 0.0)] == [
        "128", "0.31", "0.0416", "3.2e-3", "1e-3", "5.85e-4", "1.23e4", "0",
    ]  # fmt: skip
    assert number(float("inf")) == "inf" and number(True) == "True" and number("relu") == "relu"
    # Metric values keep one form, so that they compare at a glance.
    assert [score(v) for v in (0.0416, 0.008461, 1.0)] == ["0.0416", "0.00846", "1"]
    # A value and a cutoff that differ never print the same.
    assert distinct(0.05150, 0.05146) == ("0.0515", "0.05146")
    assert distinct(0.5, 0.5) == ("0.5", "0.5")
    assert [clock(s) for s in (9, 725, 3723)] == ["0:09", "12:05", "1:02:03"]


def test_trials_are_named_by_study_number_with_their_hyperparameters():
    config = {"learning_rate": 0.0032123, "study_trial": 3, "hidden_size": 128, "dropout": 0.31}
    assert label(config, "abc") == "#3" and label({}, "abc") == "abc"
    names = ["hidden_size", "dropout", "batch_size", "learning_rate"]
    assert hyperparameters(config, names) == "hidden_size=128 dropout=0.31 learning_rate=3.21e-3"


def test_an_error_is_its_last_line():
    traceback = "Failure # 1\nTraceback (most recent call last):\n  File x\n    raise\nValueError: boom\n\n"
    assert last_line(traceback) == "ValueError: boom"
    assert last_line(None) == "unknown error"
    assert len(last_line("x" * 500)) == 200


def test_rung_lines_say_the_value_and_the_cutoff():
    assert rung_line("#2", RungDecision(1, 0.0530, 0.0515, True)) == (
        "#2 stopped at epoch 1: val MSE 0.053 worse than the rung's cutoff 0.0515"
    )
    assert rung_line("#0", RungDecision(3, 0.04, 0.0515, False)) == (
        "#0 continues after epoch 3: val MSE 0.04 better than the rung's cutoff 0.0515"
    )
    assert rung_line("#0", RungDecision(1, 0.04, None, False)) == (
        "#0 continues after epoch 1: val MSE 0.04, first at this rung"
    )


def test_the_decisions_read_from_asha_are_the_ones_it_made():
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

    asha = ASHAScheduler(
        time_attr="training_iteration",
        metric="val_mse",
        mode="min",
        max_t=9,
        grace_period=1,
        reduction_factor=3,
    )
    values = [0.5, 0.4, 0.6, 0.3, 0.7, 0.45]
    trials = [SimpleNamespace(trial_id=f"t{i}") for i in range(len(values))]
    for trial in trials:
        asha.on_trial_add(None, trial)
    seen = []
    for trial, value in zip(trials, values):
        action = asha.on_trial_result(None, trial, {"training_iteration": 1, "val_mse": value})
        decision = asha_decision(asha, trial.trial_id, 1, value)
        assert decision.stopped == (action == TrialScheduler.STOP), (trial, value)
        seen.append(decision)
    assert seen[0].cutoff is None and not seen[0].stopped  # first at the rung
    assert seen[2].stopped and seen[2].cutoff == pytest.approx(0.4 + (0.5 - 0.4) / 3)
    assert seen[3].cutoff is not None and not seen[3].stopped
    # Not rung decisions: an epoch between rungs, the last epoch, another scheduler.
    asha.on_trial_result(None, trials[1], {"training_iteration": 2, "val_mse": 0.3})
    assert asha_decision(asha, "t1", 2, 0.3) is None
    assert asha_decision(asha, "t1", 9, 0.3) is None
    assert asha_decision(FIFOScheduler(), "t1", 1, 0.4) is None


def test_the_progress_line():
    p = Progress(
        epochs=10,
        budget=36,
        elapsed_s=42,
        eta_s=114,
        running=2,
        done=1,
        stopped=1,
        failed=1,
        best=("#2", 0.04159),
    )
    line = progress_line(p)
    assert line == (
        "progress: epochs 10/36 | 0:42 elapsed, ETA 1:54 | trials 2 running, 1 done, 1 stopped, 1 failed "
        "| best #2 val MSE 0.0416"
    )
    assert len(progress_line(p, 80)) <= 80 and progress_line(p, 80).startswith(
        "epochs 10/36 | 0:42, ETA 1:54"
    )
    first = Progress(epochs=0, budget=36, elapsed_s=3, eta_s=None, running=0, done=0, stopped=0)
    assert progress_line(first).endswith(
        "| 0:03 elapsed | trials 0 running, 0 done, 0 stopped | no result yet"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_line_is_rewritten_in_place(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    console = SearchConsole(["hidden_size"], num_samples=4, max_epochs=3, run_path="/runs/x")
    console.setup()
    trials = [
        SimpleNamespace(
            trial_id=f"t{n}", config={"study_trial": n, "hidden_size": 8}, last_result={}, metric_analysis={},
            status="PENDING",
        )
        for n in range(2)
    ]  # fmt: skip
    for trial in trials:
        console.on_trial_start(0, trials, trial)
    console.close()
    text = terminal.getvalue()
    # Each event clears the progress line, prints itself, and redraws the progress line after it.
    progress = r"(progress: )?epochs 0/12 [^\n]*"
    assert re.fullmatch(
        rf"#0 started: hidden_size=8\n\r{progress}\r *\r#1 started: hidden_size=8\n\r{progress}\r *\r", text
    ), text
    assert console._live == 0  # close() left a clean line


def test_library_log_lines_are_silenced_unless_verbose(library_lines):
    import optuna
    from ray._private.authentication.authentication_token_setup import _warn_token_auth_enabled

    ray_level, optuna_level = logging.getLogger("ray").level, optuna.logging.get_verbosity()
    with library_output(verbose=False):
        _warn_token_auth_enabled()
        optuna.create_study()
        logging.getLogger("ray.tune.execution.tune_controller").error("Trial task failed for trial t1")
        logging.getLogger("ray.tune").warning("a notice")
        logging.getLogger("ray.tune").error("a real error")
    # Errors still reach the user, except a trial's failure: the console says it in one line.
    assert [record.getMessage() for record in library_lines] == ["a real error"]
    assert (logging.getLogger("ray").level, optuna.logging.get_verbosity()) == (ray_level, optuna_level)
    library_lines.clear()
    with library_output(verbose=True):
        _warn_token_auth_enabled()
        optuna.create_study()
    printed = [record.getMessage() for record in library_lines]
    assert printed[0].startswith("Token authentication is enabled") and "A new study created" in printed[1]
