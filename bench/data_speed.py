"""How fast is the data layer? Generation, building, loading and size on disk.

Runs on the default synthetic corpus (or `--speakers/--utterances-per-voice`
for a quick look) in a temporary folder and prints one table:

    python bench/data_speed.py            # the default corpus
    python bench/data_speed.py --quick    # 2 speakers, a minute less waiting
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from au2bs.data import BuildOptions, build_dataset, load_dataset
from au2bs.synth import SynthConfig, generate_corpus


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a 2-speaker corpus instead of the default")
    parser.add_argument("--loads", type=int, default=7, help="load repetitions; the median is reported")
    args = parser.parse_args()
    config = SynthConfig(speakers=2) if args.quick else SynthConfig()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate_corpus(root / "raw", config, progress=False)
        generate_s = time.perf_counter() - start

        builds = {}
        for workers in (1, os.cpu_count() or 1):
            out = root / f"dataset-{workers}"
            start = time.perf_counter()
            manifest = build_dataset(
                root / "raw", out, BuildOptions(), progress=False, log=lambda _: None, workers=workers
            )
            builds[workers] = time.perf_counter() - start
        frames = manifest["counts"]["frames"]

        load_times = []
        for _ in range(args.loads):
            start = time.perf_counter()
            data = load_dataset(out)
            load_times.append(time.perf_counter() - start)
        in_memory = sum(a.x.nbytes + a.y.nbytes + a.offsets.nbytes for a in data.values())

        print(
            f"corpus: {manifest['counts']['pairs']} pairs, {manifest['counts']['utterances']} kept, "
            f"{manifest['counts']['rejected']} rejected, {frames} frames ({frames / 60 / 60:.1f} min at 60 fps)"
        )
        print(f"{'measure':<38} {'value':>14}")
        print(f"{'generate raw corpus (s)':<38} {generate_s:14.1f}")
        for workers, seconds in builds.items():
            print(f"{f'build, {workers} worker(s) (s)':<38} {seconds:14.1f}")
            print(f"{f'build, {workers} worker(s) (frames/s)':<38} {frames / seconds:14,.0f}")
        print(f"{'load all splits, median (s)':<38} {statistics.median(load_times):14.3f}")
        print(f"{'load all splits, best (s)':<38} {min(load_times):14.3f}")
        print(f"{'raw corpus on disk (MB)':<38} {folder_bytes(root / 'raw') / 1e6:14.1f}")
        print(f"{'dataset on disk (MB)':<38} {folder_bytes(out) / 1e6:14.1f}")
        print(f"{'dataset in memory, float32 (MB)':<38} {in_memory / 1e6:14.1f}")


if __name__ == "__main__":
    main()
