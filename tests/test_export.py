"""au2bs.export: every registered architecture as ONNX, checked against PyTorch with ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tune_helpers import small_splits, tiny_checkpoint

from au2bs.constants import NUM_AUS
from au2bs.export import OPSET, supported_forms
from au2bs.export.__main__ import main
from au2bs.models import ARCHITECTURES
from au2bs.train.checkpoint import CHECKPOINT_FILE, load_checkpoint
from au2bs.train.evaluate import model_from_checkpoint

onnx = pytest.importorskip("onnx", reason="the `onnx` extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the `onnx` extra is not installed")

TOLERANCE = 1e-5
LENGTHS = (1, 7, 50)  # frames: one step, a few, more than the exporter's example input
NON_CAUSAL = next(name for name, spec in ARCHITECTURES.items() if not spec.causal)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("export_data")
    return small_splits(root, frames=60)


@pytest.fixture(scope="module")
def checkpoints(splits, tmp_path_factory):
    """arch -> a training folder holding a one-epoch, hidden-8 checkpoint (made on first use)."""
    root = tmp_path_factory.mktemp("export_checkpoints")
    made = {}

    def get(arch: str):
        if arch not in made:
            # PyTorch's initialisation: outputs far from 0, so a 1e-5 agreement means something.
            tiny_checkpoint(splits, arch, root / arch, init_std=None)
            made[arch] = root / arch
        return made[arch]

    return get


def _metadata(path) -> dict[str, str]:
    return {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _stepped(session, x: np.ndarray) -> np.ndarray:
    """(1, T, 17) run frame by frame through a step model, its state fed back -> (1, T, C)."""
    stateful = len(session.get_inputs()) == 2
    if stateful:
        state = np.zeros(session.get_inputs()[1].shape, dtype=np.float32)
    frames = []
    for t in range(x.shape[1]):
        feed = {"au": x[:, t]}
        if stateful:
            feed["state_in"] = state
        outputs = session.run(None, feed)
        frames.append(outputs[0])
        if stateful:
            state = outputs[1]
    return np.stack(frames, axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_onnx_runtime_computes_what_pytorch_does(arch, checkpoints, tmp_path, capsys):
    spec = ARCHITECTURES[arch]
    folder = checkpoints(arch)
    model = model_from_checkpoint(load_checkpoint(folder / CHECKPOINT_FILE), weights="best")
    forms = ("step", "sequence") if spec.causal else ("sequence",)
    assert supported_forms(model) == forms
    form = "both" if spec.causal else "sequence"
    assert main(["--checkpoint", str(folder), "--onnx", str(tmp_path / "m.onnx"), "--form", form]) == 0
    assert capsys.readouterr().err == ""
    files = {"step": tmp_path / "m.step.onnx", "sequence": tmp_path / "m.seq.onnx"} if spec.causal else {}
    files = files or {"sequence": tmp_path / "m.onnx"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files.values())
    for name, path in files.items():
        metadata = _metadata(path)
        assert metadata["opset"] == str(OPSET) and metadata["arch"] == arch and metadata["form"] == name
        assert metadata["output_names"].split(",") == list(spec.output_names)
        assert metadata["fps"] == "60"
        assert onnx.load(str(path)).opset_import[0].version == OPSET

    generator = torch.Generator().manual_seed(0)
    differences = []
    for frames in LENGTHS:
        x = torch.rand(1, frames, NUM_AUS, generator=generator)
        with torch.no_grad():
            expected = model(x, torch.tensor([frames])).prediction.numpy()  # (1, T, C)
        got = {"sequence": _session(files["sequence"]).run(["blendshapes"], {"au": x.numpy()})[0]}
        if "step" in files:
            got["step"] = _stepped(_session(files["step"]), x.numpy())
        for values in got.values():
            assert values.shape == expected.shape
            differences.append(float(np.abs(values - expected).max()))
    assert max(differences) <= TOLERANCE, differences
    assert np.abs(expected).max() > 1e-2  # outputs that are not all near 0
    print(f"{arch}: forms {forms}, max |onnx - torch| {max(differences):.2e}")


def test_the_default_form_follows_causality(checkpoints, tmp_path):
    causal = next(name for name, spec in ARCHITECTURES.items() if spec.causal)
    assert main(["--checkpoint", str(checkpoints(causal)), "--onnx", str(tmp_path / "c.onnx")]) == 0
    assert [i.name for i in _session(tmp_path / "c.onnx").get_inputs()] == ["au", "state_in"]
    assert [o.name for o in _session(tmp_path / "c.onnx").get_outputs()] == ["blendshapes", "state_out"]
    assert main(["--checkpoint", str(checkpoints(NON_CAUSAL)), "--onnx", str(tmp_path / "n.onnx")]) == 0
    assert _metadata(tmp_path / "n.onnx")["form"] == "sequence"


def test_refusals_are_one_line_exit_2_and_write_nothing(checkpoints, tmp_path, capsys):
    non_causal = str(checkpoints(NON_CAUSAL))
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    (tmp_path / "a_folder.onnx").mkdir()
    cases = {
        "checkpoint not found": [str(tmp_path / "missing"), str(tmp_path / "x.onnx")],
        "has no step form": [non_causal, str(tmp_path / "x.onnx"), "--form", "step"],
        "cannot create the output folder": [non_causal, str(blocker / "x.onnx")],
        "is a folder": [non_causal, str(tmp_path / "a_folder.onnx")],
    }
    for message, (checkpoint, out, *rest) in cases.items():
        assert main(["--checkpoint", checkpoint, "--onnx", out, *rest]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "a_folder.onnx"]
