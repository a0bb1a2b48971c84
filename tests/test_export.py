"""au2bs.export: every registered architecture as ONNX, checked against PyTorch with ONNX Runtime;
the Sentis forms checked against the operators Unity Sentis imports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tune_helpers import small_splits, tiny_checkpoint

from au2bs.constants import NUM_AUS
from au2bs.export import OPSET, OPSETS, supported_forms
from au2bs.export.__main__ import main
from au2bs.models import ARCHITECTURES
from au2bs.train.checkpoint import CHECKPOINT_FILE, load_checkpoint
from au2bs.train.evaluate import model_from_checkpoint

onnx = pytest.importorskip("onnx", reason="the `onnx` extra is not installed")
pytest.importorskip("onnx.reference", reason="onnx's reference evaluator (onnx 1.13+) is missing")
ort = pytest.importorskip("onnxruntime", reason="the `onnx` extra is not installed")

TOLERANCE = 1e-5
LENGTHS = (1, 7, 50)  # frames: one step, a few, more than the exporter's example input
NON_CAUSAL = next(name for name, spec in ARCHITECTURES.items() if not spec.causal)
CAUSAL = [name for name, spec in ARCHITECTURES.items() if spec.causal]

# ONNX operators in Unity's "Supported ONNX operators" table (Sentis 1.x-2.1, Inference Engine 2.2+),
# those an exported regressor could use. Its list of unsupported operators holds, among others:
SENTIS_SUPPORTED = {
    "Add", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Div", "Equal", "Expand", "Gather",
    "Gemm", "Greater", "Identity", "MatMul", "Max", "Min", "Mul", "Relu", "Reshape", "Shape", "Sigmoid",
    "Slice", "Split", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze", "Where",
}  # fmt: skip
SENTIS_UNSUPPORTED = {"GRU", "Loop", "Scan", "RNN", "If", "SequenceEmpty", "ConcatFromSequence"}
SENTIS_HIGHEST_OPSET = 15  # what the Sentis 1.x packages read


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


def _op_types(path) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}


def _channel_dims(path) -> list:
    """The last dimension of every output, as the file states it (a number or a symbol's name)."""
    outputs = onnx.load(str(path)).graph.output
    return [
        o.type.tensor_type.shape.dim[-1].dim_value or o.type.tensor_type.shape.dim[-1].dim_param
        for o in outputs
    ]


@pytest.mark.slow
@pytest.mark.parametrize("arch", CAUSAL)
def test_the_sentis_forms_use_only_what_sentis_imports_and_compute_what_pytorch_does(
    arch, checkpoints, tmp_path, capsys
):
    spec = ARCHITECTURES[arch]
    folder = checkpoints(arch)
    model = model_from_checkpoint(load_checkpoint(folder / CHECKPOINT_FILE), weights="best")
    forms = ("step", "sequence") if arch == "fcnet" else ("step",)
    assert supported_forms(model, "sentis") == forms
    form = "both" if arch == "fcnet" else "step"
    argv = [
        "--checkpoint",
        str(folder),
        "--onnx",
        str(tmp_path / "m.onnx"),
        "--form",
        form,
        "--engine",
        "sentis",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    files = {"step": tmp_path / "m.step.onnx", "sequence": tmp_path / "m.seq.onnx"} if form == "both" else {}
    files = files or {"step": tmp_path / "m.onnx"}
    for name, path in files.items():
        ops = _op_types(path)
        assert ops <= SENTIS_SUPPORTED and not ops & SENTIS_UNSUPPORTED, (name, sorted(ops))
        assert onnx.load(str(path)).opset_import[0].version == OPSETS["sentis"] <= SENTIS_HIGHEST_OPSET
        metadata = _metadata(path)
        assert (metadata["engine"], metadata["form"], metadata["opset"]) == ("sentis", name, "15")
        assert _channel_dims(path)[0] == spec.channels

    generator = torch.Generator().manual_seed(1)
    differences = []
    for frames in LENGTHS:
        x = torch.rand(1, frames, NUM_AUS, generator=generator)
        with torch.no_grad():
            expected = model(x, torch.tensor([frames])).prediction.numpy()  # (1, T, C)
        got = [_stepped(_session(files["step"]), x.numpy())]
        if "sequence" in files:
            got.append(_session(files["sequence"]).run(["blendshapes"], {"au": x.numpy()})[0])
        for values in got:
            assert values.shape == expected.shape
            differences.append(float(np.abs(values - expected).max()))
    assert max(differences) <= TOLERANCE, differences
    assert np.abs(expected).max() > 1e-2  # outputs that are not all near 0
    # ONNX's own reference evaluator, a second runtime, reads the step form the same way.
    reference = onnx.reference.ReferenceEvaluator(str(files["step"]))
    feed = {"au": x.numpy()[:, 0]}
    if state_size := int(_metadata(files["step"])["state_size"]):
        feed["state_in"] = np.zeros((1, state_size), dtype=np.float32)
    assert np.abs(reference.run(None, feed)[0] - expected[:, 0]).max() <= TOLERANCE
    print(f"{arch} sentis: ops {sorted(_op_types(files['step']))}, max |onnx - torch| {max(differences):.2e}")


def test_sentis_refuses_what_it_cannot_import_in_one_line(checkpoints, tmp_path, capsys):
    gru = next(name for name in CAUSAL if name != "fcnet")
    cases = {
        "Sentis imports neither ONNX's GRU nor its Loop": [gru, "--form", "sequence"],
        "has no step form for sentis: it is not causal": [NON_CAUSAL, "--form", "step"],
        "has no sequence form for sentis": [NON_CAUSAL],
    }
    for message, (arch, *rest) in cases.items():
        argv = [
            "--checkpoint",
            str(checkpoints(arch)),
            "--onnx",
            str(tmp_path / "x.onnx"),
            "--engine",
            "sentis",
        ]
        assert main(argv + rest) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_every_output_names_its_channel_count(checkpoints, tmp_path):
    """0.1 / 0.3's sequence form had the symbol Concatblendshapes_dim_2 where 61 belongs."""
    assert (
        main(
            [
                "--checkpoint",
                str(checkpoints("grunet0.3")),
                "--onnx",
                str(tmp_path / "s.onnx"),
                "--form",
                "sequence",
            ]
        )
        == 0
    )
    assert _channel_dims(tmp_path / "s.onnx") == [61]
    assert "GRU" in _op_types(tmp_path / "s.onnx")  # the ONNX Runtime form keeps the GRU operator
