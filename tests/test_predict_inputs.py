"""au2bs.predict --checkpoint: a checkpoint file, the folder holding one, or a run folder of tune.run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tune_helpers import small_splits, tiny_checkpoint

from au2bs import predict
from au2bs.train.checkpoint import CHECKPOINT_FILE
from tune.runfolder import layout as artifacts

DIVERGED = (
    "every trial diverged (4 of 4): there is no best configuration; "
    "narrow the learning-rate range or check the data for extreme values"
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A one-epoch model's training folder (checkpoint.pt) and an OpenFace file to predict from."""
    root = tmp_path_factory.mktemp("predict_inputs")
    tiny_checkpoint(small_splits(root), "grunet0.3", root / "train")
    return {"folder": root / "train", "openface": root / "raw" / "openface" / "utt01.csv"}


def _run_folder(root: Path, checkpoint: Path | None, best: dict | None = None, written_at: str = "") -> Path:
    """A run folder as tune.run leaves it, as far as predict reads it: config.json, and summary.json
    naming the best checkpoint as <run>/train_trial_*/checkpoint_*, with the run where it was written."""
    run = root / "run"
    trial = run / "train_trial_0b772b49_3_batch_size=8" / "checkpoint_000002"
    trial.mkdir(parents=True)
    if checkpoint is not None:
        shutil.copy(checkpoint, trial / CHECKPOINT_FILE)
    written_at = written_at or str(run)
    (run / artifacts.CONFIG_FILE).write_text("{}\n")
    (run / artifacts.TRIALS_FILE).write_bytes(b"")  # predict does not read it
    if best is None:
        best = {"trial_id": "0b772b49", "checkpoint": f"{written_at}/{trial.relative_to(run)}"}
    summary = {"run": written_at, "best": best or None, "no_best": None if best else DIVERGED}
    (run / artifacts.SUMMARY_FILE).write_text(json.dumps(summary) + "\n")
    return run


def _predict(checkpoint, openface: Path, out: Path) -> int:
    return predict.main(["--checkpoint", str(checkpoint), "--openface", str(openface), "--out", str(out)])


def test_a_file_a_checkpoint_folder_and_a_run_folder_predict_the_same(trained, tmp_path, capsys):
    file = trained["folder"] / CHECKPOINT_FILE
    # Moved since it was written: the summary's absolute paths are read from where the run lies now.
    run = _run_folder(tmp_path, file, written_at="/elsewhere/runs/run")
    best = run / "train_trial_0b772b49_3_batch_size=8" / "checkpoint_000002" / CHECKPOINT_FILE
    assert predict.resolve_checkpoint(file) == file
    assert predict.resolve_checkpoint(trained["folder"]) == file
    assert predict.resolve_checkpoint(best.parent) == best
    assert predict.resolve_checkpoint(run) == best
    outputs = []
    for index, checkpoint in enumerate((file, trained["folder"], best.parent, run)):
        out = tmp_path / f"out{index}"
        assert _predict(checkpoint, trained["openface"], out) == 0, capsys.readouterr().err
        outputs.append((out / trained["openface"].name).read_bytes())
    assert len(set(outputs)) == 1 and outputs[0]


def test_refusals_are_one_line_and_write_nothing(trained, tmp_path, capsys):
    file = trained["folder"] / CHECKPOINT_FILE
    diverged = _run_folder(tmp_path / "diverged", None, best={})
    gone = _run_folder(tmp_path / "gone", None)
    remote = _run_folder(
        tmp_path / "remote",
        None,
        best={"checkpoint": "s3://bucket/runs/r/train_trial_x/checkpoint_000001"},
        written_at="s3://bucket/runs/r",
    )
    unfinished = tmp_path / "unfinished"
    shutil.copytree(gone, unfinished)
    (unfinished / artifacts.SUMMARY_FILE).unlink()
    training_without_checkpoint = tmp_path / "empty"
    training_without_checkpoint.mkdir()
    (training_without_checkpoint / "config.json").write_text("{}\n")
    cases = [
        (diverged, "the run has no best checkpoint: every trial diverged (4 of 4)"),
        (gone, "the run's best checkpoint is missing on disk"),
        (remote, "`python -m tune.best s3://bucket/runs/r --checkpoint-only`"),
        ("s3://bucket/runs/r", "`python -m tune.best s3://bucket/runs/r --checkpoint-only`"),
        (unfinished, f"a run of tune.run without summary.json: `python -m tune.best {unfinished} --checkpoint-only`"),
        (training_without_checkpoint, "not a checkpoint: neither a checkpoint file, a folder holding checkpoint.pt"),
        (tmp_path / "missing", "checkpoint not found"),
    ]  # fmt: skip
    out = tmp_path / "out"
    for checkpoint, message in cases:
        assert _predict(checkpoint, trained["openface"], out) == 2, checkpoint
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not out.exists()
    # A summary.json that is not JSON is one line too.
    (diverged / artifacts.SUMMARY_FILE).write_text("{")
    assert _predict(diverged, trained["openface"], out) == 2
    assert "unreadable run summary" in capsys.readouterr().err and not out.exists()
    assert file.is_file()  # the refusals left the training folder alone
