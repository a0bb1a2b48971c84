"""Inspecting finished searches: tune.best and tune.compare on small real runs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import matplotlib.image
import numpy as np
import optuna
import pytest
from ray.tune import ExperimentAnalysis
from tune_helpers import small_dataset

from au2bs import predict
from au2bs.data import BuildOptions, build_dataset, load_dataset
from au2bs.formats import read_livelink
from au2bs.synth import SynthConfig, generate_corpus
from au2bs.train import load_checkpoint
from au2bs.train.checkpoint import save_checkpoint
from au2bs.train.evaluate import evaluate_model, model_from_checkpoint
from tune.best import main as best_main
from tune.compare import main as compare_main
from tune.report.plots import learning_curves_figure, metric_vs_hyperparameters_figure
from tune.run import main as run_main
from tune.runfolder.run import open_run

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
    assert report["oracle"] is None  # pairs_factory's corpus knows no oracle
    for index, name in enumerate(test.ids):
        predicted = read_livelink(tmp_path / "export" / f"{name}.predicted.csv")
        truth = read_livelink(tmp_path / "export" / f"{name}.truth.csv")
        assert len(predicted.times) == len(truth.times) == test.lengths[index]
        np.testing.assert_allclose(truth.values, test.sequence(index)[1], atol=1e-7)
    # Alone, --export says only what it wrote and where; with --evaluate, the evaluation as well.
    again = tmp_path / "again"
    assert best_main([str(run), "--export", str(again)]) == 0
    line = f"exported {len(test.ids)} test sequences (predicted + truth) as Live Link Face CSVs to {again}"
    assert capsys.readouterr().out.splitlines() == [line]
    assert best_main([str(run), "--evaluate", "--export", str(tmp_path / "third")]) == 0
    printed = capsys.readouterr().out
    assert "test split, best checkpoint:" in printed and "ten worst channels" in printed
    assert "oracle" not in printed and printed.splitlines()[-1].startswith(f"exported {len(test.ids)} test")


def test_evaluate_reads_the_test_mse_against_the_datasets_oracle(runs, tmp_path, capsys):
    """A copy of the run whose best checkpoint is re-pointed at a synthetic dataset, which knows its oracle."""
    generate_corpus(tmp_path / "raw", SynthConfig(speakers=2, utterances_per_voice=2, seed=3), progress=False)
    build_dataset(tmp_path / "raw", tmp_path / "ds", BuildOptions(), progress=False, log=lambda _: None)
    oracle = json.loads((tmp_path / "ds" / "manifest.json").read_text())["oracle"]["per_split"]["test"]
    run = tmp_path / "run"
    shutil.copytree(runs["grunet0.3"], run)
    assert best_main([str(run), "--checkpoint-only"]) == 0
    checkpoint = Path(capsys.readouterr().out.strip()) / "checkpoint.pt"
    state = load_checkpoint(checkpoint)
    state["provenance"]["dataset"] = str(tmp_path / "ds")
    save_checkpoint(state, checkpoint)

    assert best_main([str(run), "--evaluate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    test = report["test"]
    assert report["oracle"]["split"] == "test" and report["oracle"]["mse_52"] == oracle["mse_52"]
    assert report["oracle"]["test_mse_52"] == test["blendshapes"]["mse"]
    assert report["oracle"]["ratio_52"] == pytest.approx(test["blendshapes"]["mse"] / oracle["mse_52"])
    if len(state["output_names"]) == 61:  # a model of all 61 channels is read against that oracle too
        assert report["oracle"]["ratio_61"] == pytest.approx(test["all"]["mse"] / oracle["mse_61"])
    else:
        assert report["oracle"]["ratio_61"] is None
    assert best_main([str(run), "--evaluate"]) == 0
    printed = capsys.readouterr().out
    assert "against the oracle of this test split (the synthetic corpus's noise floor):" in printed
    assert (
        f"52 blendshapes  MSE {test['blendshapes']['mse']:.6f}, oracle {oracle['mse_52']:.6f}: "
        f"{report['oracle']['ratio_52']:.2f}x the oracle"
    ) in printed


def test_predict_takes_what_checkpoint_only_prints_and_the_run_folder(runs, tmp_path, capsys):
    run = runs["grunet0.3"]
    assert best_main([str(run), "--checkpoint-only"]) == 0
    folder = capsys.readouterr().out.strip()
    openface = runs["dataset"].parent / "raw" / "openface" / "utt03.csv"
    written = []
    for index, checkpoint in enumerate((folder, str(run))):
        out = tmp_path / f"out{index}"
        args = ["--checkpoint", checkpoint, "--openface", str(openface), "--out", str(out)]
        assert predict.main(args) == 0, capsys.readouterr().err
        written.append((out / "utt03.csv").read_bytes())
    assert predict.resolve_checkpoint(run) == Path(folder) / "checkpoint.pt"
    assert written[0] == written[1]


def test_plots_are_real_images(runs, tmp_path, capsys):
    assert best_main([str(runs["grunet0.3"]), "--plots", str(tmp_path)]) == 0
    names = ["learning_curves", "metric_vs_hyperparameters", "importances", "predicted_vs_true"]
    # Alone, --plots prints only what it wrote.
    assert capsys.readouterr().out.splitlines() == [f"plot: {tmp_path / name}.png" for name in names]
    for name in names:
        path = tmp_path / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[0] > 100 and pixels[..., :3].std() > 0.05, f"{name} looks blank"
    height, width = matplotlib.image.imread(tmp_path / "metric_vs_hyperparameters.png").shape[:2]
    assert width < 2 * height, "the hyperparameter panels are wrapped into rows, not one long strip"


def test_plots_mark_the_best_trial(runs):
    run = open_run(str(runs["grunet0.3"]))
    best = run.best["trial_id"]
    curves = learning_curves_figure(run)
    labels = [text.get_text() for text in curves.axes[0].get_legend().get_texts()]
    assert labels[0].startswith(f"best: trial {best}") and any("research configuration" in t for t in labels)
    assert len(labels) >= len(run.trials)  # four trials: each named
    panels = metric_vs_hyperparameters_figure(run)
    visible = [axis for axis in panels.axes if axis.get_visible()]
    assert len(visible) == 4 and len({axis.get_position().y0 for axis in visible}) == 2  # 2 x 2
    for axis in visible:
        (star,) = [c for c in axis.collections if c.get_label() == "best trial"]
        assert len(star.get_offsets()) == 1, "the best trial is marked in every panel"
    assert "best trial" in [text.get_text() for text in visible[0].get_legend().get_texts()]


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
        assert 0 < row["frame_ms"] < 16.7 and row["live_60fps"]  # one streamed step, state carried
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_optuna_dashboard_serves_a_finished_runs_study(runs, tmp_path):
    """The README's `optuna-dashboard sqlite:///runs/<name>/optuna.db`, read back over its HTTP API."""
    pytest.importorskip("optuna_dashboard", reason="optuna-dashboard is the `dashboard` extra (in `dev` too)")
    command = Path(sys.executable).parent / "optuna-dashboard"
    assert command.is_file(), f"optuna-dashboard is importable but its command is not beside {sys.executable}"
    study_file = tmp_path / "optuna.db"  # a copy: the fixture's run stays as the search left it
    shutil.copy(runs["grunet0.3"] / "optuna.db", study_file)
    url = f"sqlite:///{study_file}"
    name = open_run(str(runs["grunet0.3"])).options.place.name
    study = optuna.load_study(study_name=name, storage=url)
    port = _free_port()
    log = (tmp_path / "dashboard.log").open("w")
    server = subprocess.Popen(
        [str(command), url, "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline, listed = time.monotonic() + 30, None
        while listed is None:
            assert server.poll() is None, (tmp_path / "dashboard.log").read_text()
            assert time.monotonic() < deadline, "optuna-dashboard did not answer within 30 s"
            try:
                listed = _get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
            except OSError:  # not listening yet
                time.sleep(0.3)
        assert [s["study_name"] for s in listed] == [name]
        detail = _get_json(f"http://127.0.0.1:{port}/api/studies/{listed[0]['study_id']}")
        assert detail["name"] == name and len(detail["trials"]) == len(study.trials) == 4
        assert [(t["number"], t["state"]) for t in detail["trials"]] == [
            (t.number, t.state.name.capitalize()) for t in study.trials
        ]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
