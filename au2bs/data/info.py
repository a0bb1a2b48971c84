"""`info`: what a built dataset holds, in a few readable lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from au2bs.constants import LIVELINK_FPS, SPLITS
from au2bs.data.load import read_manifest


def describe_dataset(dataset: str | Path) -> str:
    manifest = read_manifest(dataset)
    counts = manifest["counts"]
    lengths = manifest["sequence_frames"]
    lines = [
        f"dataset      {Path(dataset).resolve()}",
        f"made by      {manifest['created_by']} from {manifest['source']}",
        f"format       version {manifest['format_version']}, {manifest['fps']} fps, "
        f"{len(manifest['channels']['aus'])} AUs -> {len(manifest['channels']['livelink'])} channels",
        f"utterances   {counts['utterances']} kept, {counts['rejected']} rejected of {counts['pairs']} pairs",
        f"speakers     {len(counts['speakers'])}: {', '.join(counts['speakers'])}",
        f"voices       {', '.join(counts['voices'])}",
        f"split        by {manifest['options']['split_by']}, seed {manifest['seed']}",
    ]
    for split in SPLITS:
        ids = manifest["splits"][split]
        sizes = np.array([lengths[i] for i in ids]) if ids else np.zeros(1, dtype=int)
        frames = counts["per_split"][split]["frames"]
        lines.append(
            f"  {split:<5}      {len(ids):5d} sequences {frames:8d} frames "
            f"({frames / LIVELINK_FPS / 60:.1f} min), length {sizes.min()}-{int(np.median(sizes))}-"
            f"{sizes.max()} (min-median-max)"
        )
    options = manifest["options"]
    lines.append(
        "options      "
        + ", ".join(
            f"{key}={value}" for key, value in options.items() if key not in ("au", "skip_bad", "seed")
        )
    )
    lines.append("AU options   " + ", ".join(f"{k}={v}" for k, v in options["au"].items()))
    oracle = manifest.get("oracle")
    if oracle and "test" in oracle.get("per_split", {}):
        test = oracle["per_split"]["test"]
        lines.append(
            f"oracle       test MSE {test['mse_61']:.3g} (61 channels), {test['mse_52']:.3g} (52 blendshapes)"
        )
    for item in manifest["rejected"][:5]:
        lines.append(f"rejected     {item['id']}: {item['reason']}")
    if len(manifest["rejected"]) > 5:
        lines.append(f"rejected     ... and {len(manifest['rejected']) - 5} more (see manifest.json)")
    return "\n".join(lines)
