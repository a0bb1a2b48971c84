"""What every command of this project shares: bad input as one line and exit 2, and the common flags.

Each flag that several commands take (`--arch`, `--data`, `--seed`,
`--device`) is declared and checked here once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from au2bs.errors import InputError

DATA_HELP = "dataset folder from `python -m au2bs.data build` (default: the built-in synthetic dataset)"
DEVICE_HELP = "auto (CUDA when present), cpu or cuda[:N] (default: %(default)s)"


def run_main(
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """Parses `argv` and runs `command`; an InputError anywhere is one `error:` line and exit 2."""
    try:
        return command(parser.parse_args(argv))
    except InputError as error:
        return report(error)


def report(error: InputError) -> int:
    """Prints bad input as one line; returns the exit status for it."""
    print(f"error: {error}", file=sys.stderr)
    return 2


def check_architecture(name: str) -> str:
    """A registered architecture's name; InputError naming the registered ones otherwise."""
    from au2bs.models import get_architecture  # here: the commands without --arch need no torch

    get_architecture(name)  # UnknownArchitectureError is an InputError
    return name


def add_arch(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    from au2bs.models import ARCHITECTURES

    parser.add_argument(
        "--arch", required=True, help=help or f"architecture: one of {', '.join(ARCHITECTURES)}"
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help=DATA_HELP)


def add_checkpoint(parser: argparse.ArgumentParser, note: str = "") -> None:
    """--checkpoint: what au2bs.predict.resolve_checkpoint accepts."""
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="checkpoint.pt from au2bs.train or a search trial, the folder holding it (as `tune.best RUN "
        "--checkpoint-only` prints), or a finished run folder of tune.run (its best checkpoint)" + note,
    )


def add_seed(parser: argparse.ArgumentParser, help: str, default: int = 0) -> None:
    parser.add_argument("--seed", type=int, default=default, help=f"{help} (default: %(default)s)")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)


def device(name: str):
    """`--device` as a torch.device; InputError for an unknown name or CUDA without a CUDA device."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name != "cpu" and not name.startswith("cuda"):
        raise InputError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but PyTorch sees no CUDA device")
    try:
        return torch.device(name)
    except RuntimeError:
        raise InputError(f"--device must be auto, cpu or cuda[:N], got {name!r}") from None
