"""`python -m au2bs.synth OUT`: write a synthetic raw corpus (see `SynthConfig`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from au2bs import cli
from au2bs.constants import CORPUS_META_FILE
from au2bs.synth.config import SynthConfig
from au2bs.synth.corpus import generate_corpus


def _parser() -> argparse.ArgumentParser:
    defaults = SynthConfig()
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.synth",
        description="Write a synthetic corpus of OpenFace + Live Link Face CSV pairs with known lags "
        "and a known noise floor (corpus.json).",
    )
    parser.add_argument("out", type=Path, help="output folder (must not exist or be empty)")
    parser.add_argument(
        "--speakers", type=int, default=defaults.speakers, help="number of speakers (default %(default)s)"
    )
    parser.add_argument(
        "--utterances-per-voice",
        type=int,
        default=defaults.utterances_per_voice,
        help="utterances per speaker and voice (default %(default)s)",
    )
    parser.add_argument(
        "--voices",
        default=",".join(defaults.voices),
        help="comma-separated voice conditions (default %(default)s)",
    )
    cli.add_seed(parser, "master seed", default=defaults.seed)
    parser.add_argument(
        "--targets-from",
        type=Path,
        default=None,
        help="folder of real Live Link Face CSVs to cut into utterances as the blendshape streams "
        "(AUs are still synthesised; no oracle)",
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it holds an earlier corpus")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status (2 for bad input)."""
    return cli.run_main(_parser(), _generate, None if argv is None else list(argv))


def _generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    config = SynthConfig(
        speakers=args.speakers,
        voices=tuple(voice.strip() for voice in args.voices.split(",") if voice.strip()),
        utterances_per_voice=args.utterances_per_voice,
        seed=args.seed,
        targets_from=None if args.targets_from is None else str(args.targets_from),
    )
    out = generate_corpus(args.out, config, progress=not args.quiet, overwrite=args.force)
    meta = json.loads((out / CORPUS_META_FILE).read_text(encoding="utf-8"))
    utterances = meta["utterances"]
    frames = sum(item["frames"] for item in utterances.values())
    oracle = meta["oracle"]
    print(f"wrote {len(utterances)} utterances ({frames} Live Link frames) to {out}")
    if oracle["mse_61"] is None:
        print(f"oracle: none ({oracle['reason']})")
    else:
        print(f"oracle MSE: {oracle['mse_61']:.3g} (61 channels), {oracle['mse_52']:.3g} (52 blendshapes)")
    for problem in meta.get("skipped_takes", []):
        print(f"skipped take: {problem}", file=sys.stderr)
    print(f"took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
