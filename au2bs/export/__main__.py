"""python -m au2bs.export: a trained checkpoint as ONNX, to run frame by frame or take by take."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from au2bs import cli
from au2bs.errors import InputError
from au2bs.export import BOTH_SUFFIXES, ENGINES, OPSETS, export_model, no_form_reason, supported_forms
from au2bs.models import get_architecture
from au2bs.predict import resolve_checkpoint
from au2bs.stream import streamable_architectures
from au2bs.train.checkpoint import open_checkpoint
from au2bs.train.evaluate import model_from_checkpoint

_CAUSAL = ", ".join(streamable_architectures())
EPILOG = f"""\
forms:
  step      one frame per call, for live use in an engine; causal architectures only:
            {_CAUSAL}. Inputs au [1, 17] and state_in [1, H]; outputs blendshapes [1, C]
            and state_out [1, H]. Start from zeros and feed state_out back as the next state_in.
            fcnet keeps no state: au in, blendshapes out, nothing else.
  sequence  a whole take: au [1, T, 17] -> blendshapes [1, T, C], T free (every architecture).
  both      OUT's suffix becomes {BOTH_SUFFIXES["step"]} and {BOTH_SUFFIXES["sequence"]} (causal architectures).

engines:
  onnxruntime  ONNX Runtime and Unreal's NNE: each GRU as ONNX's GRU operator, 0.5 / 0.6's
               decoder as a Loop; opset {OPSETS["onnxruntime"]}; every form above.
  sentis       Unity Sentis / Inference Engine, which imports neither GRU nor Loop: the same
               models as plain MatMul, Add, Sigmoid, Tanh, Mul, Sub (Relu / Max for the final
               ReLU, Greater / Cast for 0.8's gate); opset {OPSETS["sentis"]}. The step form for
               the causal architectures; the sequence form for fcnet only (a GRU over a free
               number of frames needs an operator Sentis lacks: step it frame by frame).

au holds AU intensities / 5 on the 60 fps clock, as au2bs.predict prepares them; C is 61 or 52
channels in Live Link Face order. Each file's metadata_props name the engine, opset, arch, form,
fps (60), output_names (comma-separated) and state_size (H, 0 without a state).
An existing OUT is replaced; nothing is written unless every asked-for form exports.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.export",
        description="Export a trained checkpoint as ONNX for a game engine (Unreal NNE, Unity Sentis) "
        "or ONNX Runtime.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_checkpoint(parser, "; the best epoch's weights are exported")
    parser.add_argument("--onnx", required=True, help="the ONNX file to write (see `both` below)")
    parser.add_argument(
        "--form",
        choices=("step", "sequence", "both"),
        help="step (frame by frame), sequence (whole take) or both "
        "(default: step for a causal architecture, sequence otherwise)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="onnxruntime",
        help="the runtime the file is for (default: %(default)s; see engines below)",
    )
    return cli.run_main(parser, _export, argv)


def _export(args: argparse.Namespace) -> int:
    path = resolve_checkpoint(args.checkpoint)
    state = open_checkpoint(path)
    try:
        spec = get_architecture(state["arch"])
        model = model_from_checkpoint(state, weights="best")
    except (KeyError, TypeError, RuntimeError) as error:
        raise InputError(f"checkpoint does not describe a model of this au2bs ({error})", path) from None
    form = args.form or ("step" if spec.causal else "sequence")
    forms = supported_forms(model, args.engine)
    wanted = ("step", "sequence") if form == "both" else (form,)
    for name in wanted:
        if name not in forms:
            reason = no_form_reason(model, name, args.engine)
            raise InputError(f"{spec.name} has no {name} form for {args.engine}: {reason}")
    out = Path(args.onnx)
    targets = {name: _target(out, name) if form == "both" else out for name in wanted}
    for target in targets.values():
        _check_writable(target)
    try:
        import onnx  # noqa: F401  (the `onnx` extra)
    except ImportError:
        raise InputError("ONNX export needs the onnx package: pip install 'au2bs-tune[onnx]'") from None
    try:
        export_model(model, spec.name, spec.output_names, targets, args.engine)
    except OSError as error:
        raise InputError(f"cannot write the ONNX file ({error.strerror or error})", out) from None
    for name, target in targets.items():
        print(f"{spec.name} ({name} form, {args.engine}, opset {OPSETS[args.engine]}) -> {target}")
    return 0


def _target(out: Path, form: str) -> Path:
    """OUT for one form of `--form both`: model.onnx -> model.step.onnx, model.seq.onnx."""
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(stem + BOTH_SUFFIXES[form])


def _check_writable(target: Path) -> None:
    """InputError unless `target` can be created or replaced (its folder is made if missing)."""
    if target.is_dir():
        raise InputError("is a folder; --onnx names the file to write", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"cannot create the output folder ({error.strerror or error})", target.parent
        ) from None
    if not os.access(target.parent, os.W_OK):
        raise InputError("output folder is not writable", target.parent)


if __name__ == "__main__":
    sys.exit(main())
