"""Inspecting finished searches: tune.best and tune.compare on small real runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import optuna
import pytest
from ray.tune import ExperimentAnalysis
from tune_helpers import small_dataset

from au2bs.data import load_dataset
from au2bs.formats import read_livelink
from au2bs.train import load_checkpoint
from au2bs.train.evaluate import evaluate_model, model_from_checkpoint
from tune.best import main as best_main
from tune.compare import main as compare_main
from tune.inspect_run import open_run
from tune.run import main as run_main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("best")
    dataset = small_dataset(root)
    args = ["--arch", "grunet0.3,fcnet", "--data", str(dataset), "--num-samples", "4", "--max-epochs", "3"]
    assert run_main([*args, "--train-fraction", "1", "--storage", str(root / "runs"), "--name", "cmp"]) == 0
    return {
        "grunet0.3": root / "runs" / "cmp-grunet0.3",
        "fcnet": root / "runs" / "cmp-fcnet",
        "dataset": dataset,
    }


def test_best_names_the_same_trial_as_ray(runs, capsys):
    run = runs["grunet0.3"]
    assert best_main([str(run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    analysis = ExperimentAnalysis(str(run), default_metric="val_mse", default_mode="min")
    assert report["best"]["trial_id"] == analysis.get_best_trial(scope="all").trial_id
    assert report["finished"] and len(report["trials"]) == 4
    assert best_main([str(run)]) == 0
    printed = capsys.readouterr().out
    assert f"best: trial {report['best']['trial_id']}" in printed and "(research)" in printed
    assert best_main([str(run), "--checkpoint-only"]) == 0
    assert capsys.readouterr().out.strip() == report["best"]["checkpoint"]


def test_evaluate_matches_a_direct_evaluation_and_export_reads_back(runs, tmp_path, capsys):
    run = runs["grunet0.3"]
    assert best_main([str(run), "--evaluate", "--export", str(tmp_path / "export"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    state = load_checkpoint(f"{report['best']['checkpoint']}/checkpoint.pt")
    test = load_dataset(runs["dataset"], ("test",))["test"]
    direct = evaluate_model(model_from_checkpoint(state), test, "cpu")
    assert report["test"]["blendshapes"]["mse"] == pytest.approx(direct["blendshapes"]["mse"], rel=1e-9)
    assert report["test"]["all"]["r2"] == pytest.approx(direct["all"]["r2"], rel=1e-9)
    assert len(report["worst_channels"]) == 10
    for index, name in enumerate(test.ids):
        predicted = read_livelink(tmp_path / "export" / f"{name}.predicted.csv")
        truth = read_livelink(tmp_path / "export" / f"{name}.truth.csv")
        assert len(predicted.times) == len(truth.times) == test.lengths[index]
        np.testing.assert_allclose(truth.values, test.sequence(index)[1], atol=1e-7)


def test_plots_are_real_images(runs, tmp_path, capsys):
    assert best_main([str(runs["grunet0.3"]), "--plots", str(tmp_path)]) == 0
    names = ["learning_curves", "metric_vs_hyperparameters", "importances", "predicted_vs_true"]
    for name in names:
        path = tmp_path / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05, f"{name} looks blank"


def test_compare_ranks_the_runs(runs, tmp_path, capsys):
    assert compare_main([str(runs["fcnet"]), str(runs["grunet0.3"]), "--json", "--plots", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out.split("\nplot:")[0])
    expected = sorted(rows, key=lambda row: row["val_mse"])
    assert [r["arch"] for r in rows] == [r["arch"] for r in expected] and {r["arch"] for r in rows} == {
        "grunet0.3",
        "fcnet",
    }
    for row in rows:
        summary = json.loads((runs[row["arch"]] / "summary.json").read_text())
        assert row["val_mse"] == pytest.approx(summary["best"]["val_mse"])
        assert row["causal"] and row["inference_fps"] > 0 and row["parameters"] > 0
    assert (tmp_path / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_runs(runs, tmp_path, capsys):
    assert best_main([str(tmp_path)]) == 2
    assert "not a run of tune.run" in capsys.readouterr().err
    assert best_main([str(tmp_path / "missing")]) == 2
    assert "run folder not found" in capsys.readouterr().err
    assert best_main(["nosuchscheme://bucket/run"]) == 2
    assert "cannot read the run" in capsys.readouterr().err
    # A copy of the run whose checkpoints were deleted (a run folder opens anywhere).
    broken = tmp_path / "broken"
    shutil.copytree(runs["fcnet"], broken)
    for checkpoint in broken.glob("train_trial_*/checkpoint_*"):
        shutil.rmtree(checkpoint)
    assert best_main([str(broken), "--evaluate"]) == 2
    assert "checkpoint is missing on disk" in capsys.readouterr().err


def test_a_run_behind_a_uri_is_written_and_inspected_through_the_uri(runs, tmp_path, capsys, monkeypatch):
    """As with --storage s3://...: here a file:// URI, read through pyarrow like a bucket."""
    monkeypatch.setenv("AU2BS_CACHE", str(tmp_path / "cache"))  # the study and fetched checkpoints
    args = ["--arch", "fcnet", "--data", str(runs["dataset"]), "--num-samples", "2", "--max-epochs", "2"]
    uri = f"file://{tmp_path}/bucket"
    assert run_main([*args, "--storage", uri, "--name", "remote"]) == 0
    capsys.readouterr()
    assert best_main([f"{uri}/remote", "--evaluate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    checkpoint = report["best"]["checkpoint"]
    assert checkpoint.startswith(f"{uri}/remote/train_trial_")
    fetched = list((tmp_path / "cache" / "checkpoints").glob("*/checkpoint.pt"))
    assert len(fetched) == 1
    # The fetched copy is the file the trial wrote.
    assert (
        fetched[0].read_bytes()
        == (tmp_path / checkpoint.split(f"{tmp_path}/", 1)[1] / "checkpoint.pt").read_bytes()
    )
    test = load_dataset(runs["dataset"], ("test",))["test"]
    direct = evaluate_model(model_from_checkpoint(load_checkpoint(fetched[0])), test, "cpu")
    assert report["test"]["blendshapes"]["mse"] == pytest.approx(direct["blendshapes"]["mse"], rel=1e-9)
    # For scripts (au2bs.predict --checkpoint ...): the local copy.
    assert best_main([f"{uri}/remote", "--checkpoint-only"]) == 0
    assert capsys.readouterr().out.strip() == str(fetched[0].parent)
    # The study reached the run folder (the driver kept it in its cache while searching), and
    # inspection through the URI reads it, and the summary, as it would locally.
    assert (tmp_path / "bucket" / "remote" / "optuna.db").is_file()
    remote = open_run(f"{uri}/remote")
    study = optuna.load_study(study_name="remote", storage=remote.study_url)
    assert len(study.trials) == 2 and remote.study_url.startswith(f"sqlite:///{tmp_path / 'cache'}")
    assert compare_main([f"{uri}/remote", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    summary = json.loads((tmp_path / "bucket" / "remote" / "summary.json").read_text())
    assert row["search_wall_s"] == summary["wall_seconds"] is not None


def test_inspection_loads_neither_ray_nor_optuna():
    probe = "import sys, tune.best, tune.compare; print(sorted({'ray', 'optuna'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


class _WritesMarker:
    """Unpickling this creates the file `path`: what a tampered run folder could do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_tampered_run_is_read_without_running_its_code(runs, tmp_path, capsys):
    import pickle

    run = tmp_path / "tampered"
    shutil.copytree(runs["grunet0.3"], run)
    assert best_main([str(run), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    marker = tmp_path / "marker"
    payload = pickle.dumps(_WritesMarker(str(marker)))
    for state in [*run.glob("*.pkl"), *run.glob("train_trial_*/params.pkl")]:
        state.write_bytes(payload)
    for state in run.glob("experiment_state-*.json"):
        # Every pickled field of Ray's experiment state becomes the payload.
        text = state.read_text()
        data = json.loads(text)
        for entry in data["trial_data"]:
            for index, part in enumerate(entry):
                fields = json.loads(part)
                for key, value in fields.items():
                    if isinstance(value, dict) and value.get("_type") == "CLOUDPICKLE_FALLBACK":
                        fields[key] = {"_type": "CLOUDPICKLE_FALLBACK", "value": payload.hex()}
                entry[index] = json.dumps(fields)
        state.write_text(json.dumps(data))
    # Sanity: Ray's own reader does run the payload.
    try:
        ExperimentAnalysis(str(run), default_metric="val_mse", default_mode="min")
    except Exception:
        pass  # it chokes on what the payload returned, after running it
    assert marker.exists(), "the tampering would not have run code: the test proves nothing"
    marker.unlink()

    assert best_main([str(run), "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["best"] == {**before["best"], "checkpoint": after["best"]["checkpoint"]}
    assert after["best"]["checkpoint"].startswith(str(run))
    assert [t["trial_id"] for t in after["trials"]] == [t["trial_id"] for t in before["trials"]]
    assert best_main([str(run), "--evaluate", "--plots", str(tmp_path / "plots")]) == 0
    assert compare_main([str(run), str(runs["fcnet"])]) == 0
    assert not marker.exists(), "inspecting the run ran code from it"


def test_a_corrupt_best_checkpoint_is_one_line_and_exit_2(runs, tmp_path, capsys):
    run = tmp_path / "corrupt"
    shutil.copytree(runs["fcnet"], run)
    assert best_main([str(run), "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["best"]["checkpoint"]
    assert best.startswith(f"{run}/")  # read from where the run lies now
    copied = Path(best) / "checkpoint.pt"
    for damage in (b"", copied.read_bytes()[:100]):  # zero bytes, truncated
        copied.write_bytes(damage)
        assert best_main([str(run), "--evaluate"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
        assert "not a readable au2bs checkpoint" in err
