"""The training loop, checkpoints and the train / predict commands on a small dataset."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from pairs_factory import write_corpus

from au2bs import predict
from au2bs.data import BuildOptions, SplitArrays, build_dataset, load_dataset
from au2bs.formats import read_livelink, read_openface
from au2bs.train import DivergedError, TrainConfig, Trainer, load_checkpoint
from au2bs.train.__main__ import main as train_main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    # Short sequences: the attention models step through every frame in Python.
    write_corpus(root / "raw", count=10, frames=150, lag_frames_base=10)
    build_dataset(root / "raw", root / "ds", BuildOptions(), progress=False, log=lambda _: None)
    return root / "ds"


@pytest.fixture(scope="module")
def splits(dataset):
    return load_dataset(dataset)


def _small(arch: str, **overrides) -> TrainConfig:
    settings = {"hidden_size": 16, "epochs": 4, "batch_size": 3, **overrides}
    return TrainConfig.for_architecture(arch, **settings)


@pytest.mark.parametrize("arch", ["grunet0.2", "grunet0.6"])
def test_resume_continues_exactly(splits, tmp_path, arch):
    straight = Trainer(_small(arch), splits["train"], splits["val"], "cpu")
    straight.run()
    first = Trainer(_small(arch), splits["train"], splits["val"], "cpu")
    first.run(epochs=2)
    path = first.save(tmp_path / "half.pt")
    # weights_only=True opens it: no code from the file runs.
    assert torch.load(path, weights_only=True)["epoch"] == 2
    resumed = Trainer.from_checkpoint(path, splits["train"], splits["val"], "cpu")
    resumed.run()
    assert resumed.epoch == straight.epoch == 4
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    assert [h["blendshapes/mse"] for h in resumed.history] == [h["blendshapes/mse"] for h in straight.history]


def test_training_improves_and_callbacks_can_stop(splits):
    trainer = Trainer(replace(_small("grunet0.3"), learning_rate=1e-2), splits["train"], splits["val"], "cpu")
    seen = []
    trainer.run(epochs=6, callbacks=(lambda record, _: seen.append(record.epoch) or record.epoch == 3,))
    assert seen == [1, 2, 3] and trainer.epoch == 3
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]


def test_diverged_loss_raises_a_specific_error(splits):
    broken_y = splits["train"].y.copy()
    broken_y[5] = np.nan  # a NaN target makes the loss NaN
    broken = SplitArrays(splits["train"].x, broken_y, splits["train"].offsets, splits["train"].ids)
    trainer = Trainer(replace(_small("grunet0.3"), batch_size=64), broken, splits["val"], "cpu")
    with pytest.raises(DivergedError, match=r"training loss became nan at epoch 1, batch 1/1") as raised:
        trainer.fit_epoch()
    # Clipping is on by default: the advice is not to turn it on, but to lower the rate or check the data.
    assert "clipped at norm 1" in str(raised.value) and "enable gradient clipping" not in str(raised.value)
    unclipped = Trainer(
        replace(_small("grunet0.3"), batch_size=64, grad_clip=None), broken, splits["val"], "cpu"
    )
    with pytest.raises(DivergedError, match="lower the learning rate or enable gradient clipping"):
        unclipped.fit_epoch()


def test_max_frames_limits_training_sequences(splits):
    limit = int(np.median(splits["train"].lengths))
    trainer = Trainer(_small("grunet0.1", max_frames=limit), splits["train"], splits["val"], "cpu")
    assert 0 < len(trainer.train_indices) < len(splits["train"])
    assert (splits["train"].lengths[trainer.train_indices] < limit).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_step(splits):
    trainer = Trainer(_small("grunet0.6"), splits["train"], splits["val"], "cuda")
    loss = trainer.fit_epoch()
    assert np.isfinite(loss) and next(trainer.model.parameters()).is_cuda


def test_train_command_resume_and_predict(dataset, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--arch", "grunet0.7", "--data", str(dataset), "--out", str(out), "--hidden-size", "16"]
    assert train_main([*args, "--epochs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "epoch   2/2" in printed and "test metrics" in printed and "R2 per-channel mean" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["frames"] > 0 and len(metrics["history"]) == 2
    assert train_main([*args, "--epochs", "2"]) == 2  # a checkpoint is there
    assert "--resume" in capsys.readouterr().err
    assert train_main([*args, "--epochs", "3", "--resume"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 3

    openface = dataset.parent / "raw" / "openface" / "utt03.csv"
    predicted = tmp_path / "predicted"
    assert (
        predict.main(
            ["--checkpoint", str(out / "checkpoint.pt"), "--openface", str(openface), "--out", str(predicted)]
        )
        == 0
    )
    assert "predicts 52 channels; the other 9 are written as 0" in capsys.readouterr().out
    take = read_livelink(predicted / "utt03.csv")
    source = read_openface(openface)
    assert len(take.times) == int(np.floor((source.times[-1] - source.times[0]) * 60)) + 1
    assert np.allclose(np.diff(take.times), 1 / 60, atol=1e-6)
    assert (take.values[:, 52:] == 0).all() and np.abs(take.values[:, :52]).sum() > 0


def test_train_command_bad_input(dataset, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert train_main(["--arch", "grunet9", "--data", str(dataset), "--out", out]) == 2
    assert "registered: grunet0.1, grunet0.2" in capsys.readouterr().err
    assert train_main(["--arch", "grunet0.3", "--data", str(tmp_path), "--out", out]) == 2
    assert "not a dataset" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert (
            train_main(["--arch", "grunet0.3", "--data", str(dataset), "--out", out, "--device", "cuda"]) == 2
        )
        assert "no CUDA device" in capsys.readouterr().err
    # Flag values that parse as numbers but are not usable ones.
    for flags, message in (
        (["--lr", "nan"], "learning_rate must be > 0"),
        (["--dropout", "nan"], "dropout must be"),
    ):
        assert train_main(["--arch", "grunet0.3", "--data", str(dataset), "--out", out, *flags]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_predict_bad_input_writes_nothing(dataset, tmp_path, capsys):
    trainer = Trainer(
        _small("grunet0.3", epochs=1), *(load_dataset(dataset, ("train", "val")).values()), "cpu"
    )
    trainer.run()
    checkpoint = trainer.save(tmp_path / "c.pt")
    folder = tmp_path / "inputs"
    folder.mkdir()
    source = dataset.parent / "raw" / "openface"
    (folder / "a.csv").write_bytes((source / "utt01.csv").read_bytes())
    (folder / "b.csv").write_text("frame, timestamp\n")  # no AU columns, no rows
    out = tmp_path / "out"
    assert predict.main(["--checkpoint", str(checkpoint), "--openface", str(folder), "--out", str(out)]) == 2
    assert "b.csv" in capsys.readouterr().err and not out.exists()
    (tmp_path / "not-a-checkpoint.pt").write_text("hello")
    assert (
        predict.main(
            [
                "--checkpoint",
                str(tmp_path / "not-a-checkpoint.pt"),
                "--openface",
                str(folder / "a.csv"),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "not a readable au2bs checkpoint" in capsys.readouterr().err and not out.exists()
    # A timestamp no video has: one line naming file, line and column, nothing written.
    lines = (folder / "a.csv").read_text().splitlines()
    cells = lines[5].split(", ")
    cells[lines[0].split(", ").index("timestamp")] = "1e30"
    lines[5] = ", ".join(cells)
    (folder / "a.csv").write_text("\n".join(lines) + "\n")
    assert (
        predict.main(
            ["--checkpoint", str(checkpoint), "--openface", str(folder / "a.csv"), "--out", str(out)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "a.csv:6 (column timestamp): value 1e+30 is outside the plausible" in err and not out.exists()
