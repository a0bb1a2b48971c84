"""The run folder's pure parts, without Ray: outcomes, settings, storage, Ray's saved state, trials table,
summary, placement, the study's place, and the old module paths."""

from __future__ import annotations

import json
import math
import pickle

import pandas as pd
import pytest

from au2bs.errors import InputError
from tune.experiment import old_paths
from tune.flags import parser, resolve
from tune.outcome import CONSOLE_WORDS, Outcome, describe, trial_outcome
from tune.runfolder import storage
from tune.runfolder.placement import placement, placement_summary
from tune.runfolder.ray_state import failure_count, read_trials
from tune.runfolder.settings import SearchOptions
from tune.runfolder.study import existing_study_url, study_file
from tune.runfolder.summary import best_entry, summarize
from tune.runfolder.trials import trial_rows


def _options(tmp_path, *flags) -> SearchOptions:
    args = parser().parse_args(["--arch", "fcnet", "--storage", str(tmp_path), "--max-epochs", "3", *flags])
    return resolve(args, "fcnet", "r")


@pytest.mark.parametrize(
    "epochs, ended, errored, diverged, expected",
    [
        (3, True, False, False, Outcome.COMPLETED),
        (1, True, False, False, Outcome.STOPPED),
        (1, False, False, False, Outcome.UNFINISHED),
        (2, True, False, True, Outcome.DIVERGED),
        (3, True, True, False, Outcome.ERRORED),
    ],
)
def test_one_outcome_from_what_every_reader_knows(epochs, ended, errored, diverged, expected):
    assert trial_outcome(epochs, 3, ended=ended, errored=errored, diverged=diverged) is expected


def test_outcomes_in_each_readers_words():
    assert describe(Outcome.STOPPED, 0) == "stopped before its first epoch"
    assert describe(Outcome.STOPPED, 3) == "stopped by the scheduler at epoch 3"
    assert describe(Outcome.DIVERGED, 1) == "diverged at epoch 1"
    assert Outcome.STOPPED.value == "stopped early (ASHA)" and CONSOLE_WORDS[Outcome.ERRORED] == "failed"


def test_settings_round_trip_through_a_flat_config_json(tmp_path):
    options = _options(tmp_path, "--num-samples", "5")
    flat = json.loads(options.to_json())
    assert flat["num_samples"] == 5 and flat["name"] == "r" and "plan" not in flat
    assert SearchOptions.from_json(options.to_json()) == options
    with pytest.raises(InputError, match="max_epochs must be int"):
        SearchOptions.from_json(json.dumps({**flat, "max_epochs": "9"}))
    with pytest.raises(InputError, match="--grace-period"):
        SearchOptions.from_json(json.dumps({**flat, "grace_period": 4}))


def test_storage_writes_whole_files_and_lists_folders(tmp_path):
    target = storage.join(str(tmp_path), "a", "b.txt")
    storage.write_bytes(target, b"hello")
    assert storage.read_text(target) == "hello" and storage.names_in(str(tmp_path / "a")) == ["b.txt"]
    assert (
        storage.read_bytes(str(tmp_path / "missing")) is None and storage.names_in(str(tmp_path / "no")) == []
    )
    storage.copy_file(target, str(tmp_path / "c" / "d.txt"))
    assert (tmp_path / "c" / "d.txt").read_text() == "hello" and not list((tmp_path / "c").glob("*.partial"))


def _state(tmp_path, config: dict) -> None:
    trial = {"trial_id": "t1", "status": "TERMINATED", "relative_logdir": "trial_t1", "config": config}
    state = {"trial_data": [[json.dumps(trial), json.dumps({"num_failures": 1})]]}
    (tmp_path / "experiment_state-2026.json").write_text(json.dumps(state))
    folder = tmp_path / "trial_t1"
    folder.mkdir()
    rows = [
        {"epoch": e, "val_mse": v, "checkpoint_dir_name": f"checkpoint_{e:06d}"}
        for e, v in ((1, 0.3), (2, 0.2))
    ]
    (folder / "result.json").write_text("\n".join(map(json.dumps, rows)) + "\n{partial")
    (folder / "error.txt").write_text("Failure # 1 (occurred at x)\nboom\n")


def test_ray_state_is_read_from_plain_json_and_a_half_written_line_is_skipped(tmp_path):
    with pytest.raises(ValueError):
        read_trials(str(tmp_path))
    _state(tmp_path, {"hidden_size": 32, "study_trial": 0})
    (trial,) = read_trials(str(tmp_path))
    assert (trial.trial_id, trial.status, trial.config["hidden_size"]) == ("t1", "TERMINATED", 32)
    assert list(trial.history["epoch"]) == [1, 2] and failure_count(trial.error) == 1


def test_trials_table_and_summary_from_plain_trial_files(tmp_path):
    _state(tmp_path, {"hidden_size": 32, "study_trial": 0})
    options = _options(tmp_path)
    rows = trial_rows(read_trials(str(tmp_path)), options)
    row = rows.iloc[0]
    assert row["status"] == "stopped early (ASHA)" and row["epochs"] == 2 and row["failures"] == 1
    assert row["best_epoch"] == 2 and math.isclose(row["best/val_mse"], 0.2)
    assert row["best_checkpoint"].endswith("trial_t1/checkpoint_000002")
    summary = summarize(rows, options, 1.0, [])
    assert summary["best"] == best_entry(row, rows.columns) and summary["best"]["config"] == {
        "hidden_size": 32
    }


def test_placement_names_moves_and_restarts():
    history = pd.DataFrame(
        {"node_id": ["aaaaaaaa1", "aaaaaaaa1", "bbbbbbbb2"], "started_at": [1.0, 1.0, 5.0]}
    )
    assert placement(history) == {"nodes": "aaaaaaaa>bbbbbbbb", "restarts": 1}
    table = pd.DataFrame({"nodes": ["aaaaaaaa>bbbbbbbb"], "restarts": [1], "failures": [1]})
    assert placement_summary(table) == "trials ran on 2 nodes; 1 restarted from a checkpoint, 1 failures"
    assert placement_summary(pd.DataFrame({"nodes": ["a"], "restarts": [0], "failures": [0]})) is None


def test_a_local_study_lives_in_its_run_folder(tmp_path):
    assert study_file(str(tmp_path)) == tmp_path / "optuna.db" and existing_study_url(str(tmp_path)) is None
    (tmp_path / "optuna.db").write_bytes(b"")
    assert existing_study_url(str(tmp_path)) == f"sqlite:///{tmp_path / 'optuna.db'}"


def test_old_module_paths_unpickle_to_the_moved_classes():
    old_paths.register()
    from tune.experiment.deadline import DeadlineSearcher
    from tune.experiment.trainable import TrialSettings

    assert (
        pickle.loads(
            pickle.dumps(DeadlineSearcher, protocol=0).replace(b"tune.experiment.deadline", b"tune.deadline")
        )
        is DeadlineSearcher
    )
    settings = TrialSettings("fcnet", 1, 0, 1, 0.0, {})
    old = pickle.dumps(settings, protocol=0).replace(b"tune.experiment.trainable", b"tune.trainable")
    assert b"tune.trainable" in old and pickle.loads(old) == settings
