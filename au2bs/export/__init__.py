"""Trained models as ONNX files a game engine or another runtime can run (`python -m au2bs.export`).

Two forms (`au2bs.export.forms`):

- step (causal architectures): inputs `au` (1, 17) and `state_in` (1, H),
  outputs `blendshapes` (1, C) and `state_out` (1, H). Start from a state of
  zeros and feed each frame's `state_out` back as the next `state_in`; the
  outputs equal the whole-sequence outputs frame by frame. fcnet has no
  state: its step form has `au` in and `blendshapes` out only.
- sequence (every architecture): input `au` (1, T, 17), output
  `blendshapes` (1, T, C), T free.

Inputs are AU intensities / 5 on the 60 fps clock (as `au2bs.predict`
prepares them); channels are in the order of the metadata's
`output_names`. Every file records its opset, architecture, form, fps and
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

OPSET = 17  # ONNX Runtime 1.14+ and the engines' ONNX plugins read it
FORMS = ("step", "sequence")
# `--form both` writes OUT with these in place of its suffix.
BOTH_SUFFIXES = {"step": ".step.onnx", "sequence": ".seq.onnx"}
AU_INPUT, STATE_INPUT, OUTPUT, STATE_OUTPUT = "au", "state_in", "blendshapes", "state_out"

__all__ = ["BOTH_SUFFIXES", "FORMS", "OPSET", "export_model", "form_module", "supported_forms"]


def supported_forms(model: nn.Module) -> tuple[str, ...]:
    """The forms `model` exports in."""
    return tuple(form for form, table in zip(FORMS, (STEP_FORMS, SEQUENCE_FORMS)) if type(model) in table)


def form_module(model: nn.Module, form: str) -> nn.Module:
    """`model` wrapped for `form`; InputError, one line, for a form it has no way to run in."""
    table = STEP_FORMS if form == "step" else SEQUENCE_FORMS
    if type(model) not in table:
        reason = "it is not causal: each output reads the whole take" if form == "step" else "no export"
        raise InputError(f"{type(model).__name__} cannot be exported in {form} form: {reason}")
    return table[type(model)](model).eval()


def export_model(
    model: nn.Module, arch: str, output_names: Iterable[str], targets: dict[str, Path]
) -> dict[str, Path]:
    """Writes `model` in each form of `targets` (form -> path).

    Every file is written next to its target under a temporary name and
    renamed only once all forms have been written and checked, so a failure
    leaves no file behind, half-written or not.

    Returns:
        `targets`, for the caller to report.
    """
    import onnx  # the `onnx` extra; only this command needs it

    output_names = tuple(output_names)
    modules = {form: form_module(model, form) for form in targets}
    partials = {form: path.with_name(f".{path.name}.partial") for form, path in targets.items()}
    try:
        for form, module in modules.items():
            _export(module, form, state_size(model), partials[form])
            proto = onnx.load(str(partials[form]))
            metadata = {
                "opset": str(OPSET),
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


def _export(module: nn.Module, form: str, hidden: int, path: Path) -> None:
    """Writes `module` with torch.onnx's TorchScript exporter (`dynamo=False`).

    It writes each nn.GRU as one ONNX GRU and 0.5 / 0.6's scripted decoder
    loop as an ONNX Loop over the free frame axis. The torch.export-based
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
            opset_version=OPSET,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic_axes,
        )
