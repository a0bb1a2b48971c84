"""python -m au2bs.data {build,info}: build a dataset from raw recordings, or describe one."""

from __future__ import annotations

import argparse
import sys

from au2bs import cli
from au2bs.data.build import build_dataset
from au2bs.data.info import describe_dataset
from au2bs.data.options import AuOptions, BuildOptions, LagMode
from au2bs.errors import InputError


def _parser() -> argparse.ArgumentParser:
    defaults, au = BuildOptions(), AuOptions()
    parser = argparse.ArgumentParser(
        prog="python -m au2bs.data",
        description="Build and inspect au2bs datasets (Parquet frames + manifest.json).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build",
        help="turn a folder of OpenFace + Live Link Face recordings into a split dataset",
        description="SOURCE holds pairs.csv (id,openface,livelink,speaker,voice) or openface/<id>.csv + "
        "livelink/<id>.csv. Each pair is validated, resampled onto the 60 fps blendshape clock, "
        "lag-corrected, trimmed to the overlap and split train/val/test.",
    )
    build.add_argument("source", help="raw corpus folder")
    build.add_argument("out", help="dataset folder to create (must not exist unless --force)")
    build.add_argument("--force", action="store_true", help="replace an existing dataset at OUT")
    build.add_argument(
        "--lag",
        default=str(defaults.lag),
        help="how to find the offset between the streams: xcorr (AU26 vs JawOpen cross-correlation), "
        "none, or fixed:N frames at 60 fps (default: %(default)s)",
    )
    build.add_argument(
        "--max-lag",
        type=float,
        default=defaults.max_lag_s,
        help="largest offset searched, seconds (default: %(default)s)",
    )
    build.add_argument(
        "--max-duration-diff",
        type=float,
        default=defaults.max_duration_diff_s,
        help="drop pairs whose stream durations differ by more, seconds (default: %(default)s)",
    )
    build.add_argument(
        "--max-frames",
        type=int,
        default=None,
        help="keep only sequences shorter than N frames (500 reproduces the research subset; default: all)",
    )
    build.add_argument(
        "--smooth",
        type=int,
        default=au.smooth_frames,
        help="centred moving average over N frames on both streams (default: off)",
    )
    build.add_argument(
        "--max-gap",
        type=float,
        default=au.max_gap_s,
        help="interpolate tracking failures up to this long, seconds; longer gaps cut the sequence (default: %(default)s)",
    )
    build.add_argument(
        "--min-confidence",
        type=float,
        default=au.min_confidence,
        help="OpenFace confidence below which a frame counts as failed (default: %(default)s)",
    )
    build.add_argument(
        "--face-id",
        type=int,
        default=None,
        help="face to keep in multi-face OpenFace files (default: the most frequent)",
    )
    build.add_argument(
        "--split-by",
        choices=("utterance", "speaker"),
        default=defaults.split_by,
        help="split unit; speaker = speaker-disjoint splits (default: %(default)s)",
    )
    build.add_argument(
        "--split",
        default="70/10/20",
        help="train/val/test percentages (default: %(default)s)",
    )
    cli.add_seed(build, "split seed", default=defaults.seed)
    build.add_argument(
        "--skip-bad",
        action="store_true",
        help="record bad pairs in the manifest and continue instead of stopping",
    )
    build.add_argument("--quiet", action="store_true", help="no progress bar")

    info = commands.add_parser(
        "info",
        help="print what a dataset holds",
        description="Describe a built dataset from its manifest.json: where it came from, its splits "
        "(sequences, frames, length range), speakers and voices, the build and AU options, the oracle "
        "MSE of its test split when it was built from a synthetic corpus, and rejected pairs. Reads no frames.",
    )
    info.add_argument("dataset", help="dataset folder")
    return parser


def _split_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = [float(p) for p in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) != 3 or sum(parts) <= 0:
        raise InputError(f"--split must look like 70/10/20, got {text!r}")
    total = sum(parts)
    return (parts[0] / total, parts[1] / total, parts[2] / total)


def main(argv: list[str] | None = None) -> int:
    return cli.run_main(_parser(), _run, argv)


def _run(args: argparse.Namespace) -> int:
    if args.command == "info":
        print(describe_dataset(args.dataset))
        return 0
    options = BuildOptions(
        au=AuOptions(
            min_confidence=args.min_confidence,
            face_id=args.face_id,
            max_gap_s=args.max_gap,
            smooth_frames=args.smooth,
        ),
        lag=LagMode.parse(args.lag),
        max_lag_s=args.max_lag,
        max_duration_diff_s=args.max_duration_diff,
        max_frames=args.max_frames,
        split_by=args.split_by,
        split_fractions=_split_fractions(args.split),
        seed=args.seed,
        skip_bad=args.skip_bad,
    )
    build_dataset(args.source, args.out, options, force=args.force, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
