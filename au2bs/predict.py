"""python -m au2bs.predict: OpenFace CSVs -> Live Link Face CSVs with a trained checkpoint.

The AU stream gets exactly the preprocessing the training dataset got
(tracking gaps, 60 fps resampling, 0-1 scaling, smoothing), read from the
checkpoint. Every input is read and checked before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from au2bs import align, cli
from au2bs.constants import LIVELINK_FPS, NUM_LIVELINK
from au2bs.data.options import AuOptions
from au2bs.errors import InputError
from au2bs.formats import read_openface, write_livelink
from au2bs.formats.livelink import as_livelink
from au2bs.run_summary import CONFIG_FILE, SUMMARY_FILE, TRIALS_FILE, best_checkpoint_of_run
from au2bs.train.checkpoint import CHECKPOINT_FILE, au_options_of, open_checkpoint
from au2bs.train.evaluate import model_from_checkpoint


@dataclass(frozen=True)
class PreparedInput:
    """One OpenFace file, ready for the model."""

    path: Path
    x: np.ndarray  # (T, 17) float32 on the 60 fps clock, 0-1
    notes: tuple[str, ...]


def prepare_openface(path: Path, options: AuOptions) -> PreparedInput:
    """Reads an OpenFace CSV and preprocesses it as the dataset builder does."""
    take = read_openface(path, options.face_id, options.min_confidence)
    times = take.times - take.times[0]
    filled, _, gaps = align.fill_gaps(times, take.aus, take.tracked, options.max_gap_s)
    grid = align.frame_times(int(np.floor(times[-1] * LIVELINK_FPS)) + 1)
    x = align.au_features(times, filled, grid)
    if options.smooth_frames > 1:
        x = align.moving_average(x, options.smooth_frames)
    notes = list(take.notes)
    if gaps.long_gaps:
        spans = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in gaps.long_gaps)
        notes.append(
            f"tracking lost for longer than {options.max_gap_s} s at {spans}: output there follows interpolated AUs"
        )
    return PreparedInput(path, x.astype(np.float32), tuple(notes))


class Predictor:
    """A trained model and the preprocessing it expects."""

    def __init__(self, checkpoint: str | Path, device: torch.device | str = "cpu") -> None:
        state = open_checkpoint(checkpoint)
        self.arch = state["arch"]
        self.output_names = tuple(state["output_names"])
        self.au_options = au_options_of(state)
        self.device = torch.device(device)
        # The best weights when validation ran (au2bs.train), else the last.
        self.model = model_from_checkpoint(state, weights="best", device=self.device)

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """(T, 17) AUs -> (T, 61) channels; channels the model lacks are 0."""
        inputs = torch.from_numpy(np.ascontiguousarray(x))[None].to(self.device)
        lengths = torch.tensor([len(x)], device=self.device)
        return as_livelink(self.model(inputs, lengths).prediction[0].float().cpu().numpy())


def resolve_checkpoint(target: str | Path) -> Path:
    """The checkpoint file `--checkpoint` names; InputError, one line, when it names none.

    Accepts a checkpoint file, a folder holding checkpoint.pt (an au2bs.train
    output folder, or a trial checkpoint folder as `tune.best RUN
    --checkpoint-only` prints), or a finished local run folder of tune.run,
    meaning its best checkpoint (from the run's summary.json).
    """
    if "://" in str(target):
        raise InputError(
            f"a run or checkpoint behind a URI: `python -m tune.best {target} --checkpoint-only` "
            "fetches the best checkpoint and prints a local folder to pass here",
            target,
        )
    path = Path(target)
    if path.is_file():
        return path
    if not path.is_dir():
        raise InputError("checkpoint not found", path)
    if (path / CHECKPOINT_FILE).is_file():
        return path / CHECKPOINT_FILE
    if (path / CONFIG_FILE).is_file() and (path / SUMMARY_FILE).is_file():
        return best_checkpoint_of_run(path)
    if (path / CONFIG_FILE).is_file() and (path / TRIALS_FILE).is_file():
        raise InputError(
            f"a run of tune.run without {SUMMARY_FILE}: `python -m tune.best {path} --checkpoint-only` "
            "prints its best checkpoint",
            path,
        )
    raise InputError(
        f"not a checkpoint: neither a checkpoint file, a folder holding {CHECKPOINT_FILE}, nor a finished "
        f"run of tune.run (with {SUMMARY_FILE}); for a search still running, "
        "`python -m tune.best RUN --checkpoint-only` prints its best checkpoint so far",
        path,
    )


def _inputs(target: Path) -> list[Path]:
    if target.is_dir():
        files = sorted(target.glob("*.csv"))
        if not files:
            raise InputError("no .csv files in folder", target)
        return files
    if not target.is_file():
        raise InputError("OpenFace file or folder not found", target)
    return [target]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.predict",
        description="Turn OpenFace CSVs into Live Link Face CSVs (60 fps) with a trained checkpoint.",
    )
    cli.add_checkpoint(parser)
    parser.add_argument("--openface", required=True, help="an OpenFace CSV or a folder of them")
    parser.add_argument(
        "--out", required=True, help="folder for the Live Link Face CSVs (one per input, same name)"
    )
    cli.add_device(parser)
    return cli.run_main(parser, _predict, argv)


def _predict(args: argparse.Namespace) -> int:
    device = cli.device(args.device)  # checked first: the cheaper mistake to report
    predictor = Predictor(resolve_checkpoint(args.checkpoint), device)
    # Read and check every input first: a bad file stops the run before any output exists.
    prepared = [prepare_openface(path, predictor.au_options) for path in _inputs(Path(args.openface))]
    out = Path(args.out)
    clashes = [p.path.name for p in prepared if (out / p.path.name).exists()]
    if clashes:
        raise InputError(f"would overwrite {', '.join(clashes[:3])}; choose another --out", out)
    missing = NUM_LIVELINK - len(predictor.output_names)
    if missing:
        print(
            f"note: {predictor.arch} predicts {len(predictor.output_names)} channels; the other {missing} are written as 0"
        )
    out.mkdir(parents=True, exist_ok=True)
    for item in prepared:
        for note in item.notes:
            print(f"{item.path.name}: {note}")
        values = predictor.predict(item.x)
        write_livelink(out / item.path.name, values)
        print(f"{item.path.name}: {len(values)} frames -> {out / item.path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
