"""Trained models as ONNX files a game engine or another runtime can run (`python -m au2bs.export`).

Two engines, two forms. `onnxruntime` (ONNX Runtime, Unreal's NNE; opset 17)
writes each GRU as ONNX's GRU operator (`au2bs.export.forms`); `sentis`
(Unity Sentis / Inference Engine; opset 15) writes the same models in plain
MatMul / Add / Sigmoid / Tanh / Mul operators, because Sentis imports neither
GRU nor Loop (`au2bs.export.sentis`: step forms for the causal architectures,
a sequence form for fcnet only). The forms:

- step (causal architectures): inputs `au` (1, 17) and `state_in` (1, H),
  outputs `blendshapes` (1, C) and `state_out` (1, H). Start from a state of
  zeros and feed each frame's `state_out` back as the next `state_in`; the
  outputs equal the whole-sequence outputs frame by frame. fcnet has no
  state: its step form has `au` in and `blendshapes` out only.
- sequence (every architecture): input `au` (1, T, 17), output
  `blendshapes` (1, T, C), T free.

Inputs are AU intensities / 5 on the 60 fps clock (as `au2bs.predict`
prepares them); channels are in the order of the metadata's
`output_names`, and every output's channel dimension is the number C, not a
symbol. Every file records its engine, opset, architecture, form, fps and
channel names in its `metadata_props`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from au2bs.constants import LIVELINK_FPS, NUM_AUS
from au2bs.errors import InputError
from au2bs.export.forms import SEQUENCE_FORMS, STEP_FORMS, state_size
from au2bs.export.sentis import SENTIS_OPSET, SENTIS_SEQUENCE_FORMS, SENTIS_STEP_FORMS

ENGINES = ("onnxruntime", "sentis")
OPSET = 17  # ONNX Runtime 1.14+ and Unreal NNE's ONNX Runtime backend read it
OPSETS = {"onnxruntime": OPSET, "sentis": SENTIS_OPSET}
FORMS = ("step", "sequence")
_TABLES = {
    ("onnxruntime", "step"): STEP_FORMS,
    ("onnxruntime", "sequence"): SEQUENCE_FORMS,
    ("sentis", "step"): SENTIS_STEP_FORMS,
    ("sentis", "sequence"): SENTIS_SEQUENCE_FORMS,
}
# `--form both` writes OUT with these in place of its suffix.
BOTH_SUFFIXES = {"step": ".step.onnx", "sequence": ".seq.onnx"}
AU_INPUT, STATE_INPUT, OUTPUT, STATE_OUTPUT = "au", "state_in", "blendshapes", "state_out"

__all__ = [
    "BOTH_SUFFIXES",
    "ENGINES",
    "FORMS",
    "OPSET",
    "OPSETS",
    "export_model",
    "form_module",
    "no_form_reason",
    "supported_forms",
]


def supported_forms(model: nn.Module, engine: str = "onnxruntime") -> tuple[str, ...]:
    """The forms `model` exports in for `engine`."""
    return tuple(form for form in FORMS if type(model) in _TABLES[engine, form])


def no_form_reason(model: nn.Module, form: str, engine: str) -> str:
    """Why `model` has no `form` for `engine`, with what to do instead (one clause)."""
    causal = type(model) in STEP_FORMS
    if not causal and engine == "sentis":
        return (
            "it is not causal and reads the whole take through a GRU, an operator Sentis does not "
            "import; export it for onnxruntime"
        )
    if not causal:
        return "it is not causal (each output reads the whole take); use --form sequence"
    if engine == "sentis":
        return (
            "Sentis imports neither ONNX's GRU nor its Loop, so a recurrence over a free number of "
            "frames cannot be written for it; use --form step and run it frame by frame"
        )
    return "no export is written for it"


def form_module(model: nn.Module, form: str, engine: str = "onnxruntime") -> nn.Module:
    """`model` wrapped for `form` on `engine`; InputError, one line, for a form it has no way to run in."""
    table = _TABLES[engine, form]
    if type(model) not in table:
        reason = no_form_reason(model, form, engine)
        raise InputError(f"{type(model).__name__} has no {form} form for {engine}: {reason}")
    return table[type(model)](model).eval()


def export_model(
    model: nn.Module,
    arch: str,
    output_names: Iterable[str],
    targets: dict[str, Path],
    engine: str = "onnxruntime",
) -> dict[str, Path]:
    """Writes `model` in each form of `targets` (form -> path), for `engine` (one of ENGINES).

    Every file is written next to its target under a temporary name and
    renamed only once all forms have been written and checked, so a failure
    leaves no file behind, half-written or not.

    Returns:
        `targets`, for the caller to report.
    """
    import onnx  # the `onnx` extra; only this command needs it

    output_names = tuple(output_names)
    modules = {form: form_module(model, form, engine) for form in targets}
    partials = {form: path.with_name(f".{path.name}.partial") for form, path in targets.items()}
    try:
        for form, module in modules.items():
            _export(module, form, state_size(model), partials[form], OPSETS[engine])
            proto = onnx.load(str(partials[form]))
            _number_the_channels(proto, len(output_names))
            metadata = {
                "engine": engine,
                "opset": str(OPSETS[engine]),
                "arch": arch,
                "form": form,
                "fps": str(LIVELINK_FPS),
                "output_names": ",".join(output_names),
                "state_size": str(state_size(model) if form == "step" else 0),
            }
            for key, value in metadata.items():
                proto.metadata_props.add(key=key, value=value)
            onnx.checker.check_model(proto)
            onnx.save(proto, str(partials[form]))
        for form, path in targets.items():
            os.replace(partials[form], path)
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
    return targets


def _number_the_channels(proto, channels: int) -> None:
    """Writes C into the output's channel dimension where the exporter left a symbol.

    The tracer names the dimension of a concatenation it cannot size
    (0.1 / 0.3's ReLU on 52 of 61 channels gave `Concatblendshapes_dim_2`);
    an engine reading the file should see the number.
    """
    for output in proto.graph.output:
        if output.name == OUTPUT:
            output.type.tensor_type.shape.dim[-1].dim_value = channels  # clears dim_param too


def _export(module: nn.Module, form: str, hidden: int, path: Path, opset: int) -> None:
    """Writes `module` with torch.onnx's TorchScript exporter (`dynamo=False`).

    For ONNX Runtime it writes each nn.GRU as one ONNX GRU and 0.5 / 0.6's
    scripted decoder loop as an ONNX Loop over the free frame axis (the
    Sentis forms contain neither). The torch.export-based
    exporter (PyTorch's default since 2.9) would need onnxscript and that
    loop rewritten for torch.export; the TorchScript one needs neither.
    """
    if form == "step":
        args: tuple[torch.Tensor, ...] = (torch.zeros(1, NUM_AUS),)
        inputs, outputs = [AU_INPUT], [OUTPUT]
        if hidden:
            args += (torch.zeros(1, hidden),)
            inputs, outputs = [AU_INPUT, STATE_INPUT], [OUTPUT, STATE_OUTPUT]
        dynamic_axes = None
    else:
        args = (torch.zeros(1, 5, NUM_AUS),)
        inputs, outputs = [AU_INPUT], [OUTPUT]
        dynamic_axes = {AU_INPUT: {1: "frames"}, OUTPUT: {1: "frames"}}
    # The tracer's warnings are about what is fixed on purpose (the batch of 1, the channel count);
    # the deprecation ones about the exporter chosen on purpose (see the docstring).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*batch_size other than 1.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            module,
            args,
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic_axes,
        )
