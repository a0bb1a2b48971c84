"""Checkpoints: everything to resume exactly or to predict, openable safely.

Only tensors and plain Python values go in, so `torch.load(path,
weights_only=True)` opens a checkpoint without running any code from it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from au2bs.data.options import AuOptions
from au2bs.errors import InputError

CHECKPOINT_FILE = "checkpoint.pt"  # the file name in a training folder and in each trial checkpoint
CHECKPOINT_FORMAT = "au2bs-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Writes `state` to `path` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Opens a checkpoint with `weights_only=True`; ValueError if it is not ours."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for a foreign file; some span lines
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise ValueError(f"{path}: not a readable au2bs checkpoint ({first})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not an au2bs checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"{path}: checkpoint version {state.get('version')}, this au2bs reads {CHECKPOINT_VERSION}"
        )
    return state


def open_checkpoint(path: str | Path) -> dict:
    """`load_checkpoint` for commands: a missing, damaged or foreign file is an InputError (one line)."""
    try:
        return load_checkpoint(path)
    except (FileNotFoundError, ValueError) as error:  # the message names the file already
        raise InputError(str(error)) from None


def au_options_of(state: dict) -> AuOptions:
    """The AU preprocessing the checkpoint's dataset was built with (defaults when it records none)."""
    return AuOptions(**state.get("provenance", {}).get("au_options", {}))
