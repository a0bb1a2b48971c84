"""The best checkpoint against the dataset's oracle, and its worst channels: tune.best --evaluate's figures."""

from __future__ import annotations

from pathlib import Path

from au2bs.constants import NUM_BLENDSHAPES, NUM_LIVELINK
from au2bs.data.load import read_manifest

EVALUATED_SPLIT = "test"  # --evaluate, --export and --plots read the best checkpoint on this split


def dataset_oracle(dataset: str | Path, split: str = "test") -> dict | None:
    """The oracle MSE a dataset's manifest records for `split`, or None (only a dataset built from a
    synthetic corpus has one: au2bs.data.build estimates it per split from the generator's errors)."""
    oracle = read_manifest(dataset).get("oracle") or {}
    figures = oracle.get("per_split", {}).get(split)
    if not figures:
        return None
    return {
        "split": split,
        "mse_52": figures["mse_52"],
        "mse_61": figures["mse_61"],
        "definition": oracle.get("definition"),
    }


def against_oracle(metrics: dict, oracle: dict | None) -> dict | None:
    """The test MSE beside the oracle's and their ratio, over the 52 blendshapes and, for a model that
    predicts all 61 channels, over those too (None for a model that does not); None without an oracle."""
    if oracle is None:
        return None
    compared = {**oracle}
    for channels, group in ((NUM_BLENDSHAPES, "blendshapes"), (NUM_LIVELINK, "all")):
        predicted = len(metrics["per_channel"]["mse"]) >= channels
        mse = metrics[group]["mse"] if predicted else None
        floor = oracle[f"mse_{channels}"]
        compared[f"test_mse_{channels}"] = mse
        compared[f"ratio_{channels}"] = mse / floor if mse is not None and floor else None
    return compared


def worst_channels(metrics: dict, count: int = 10) -> list[tuple[str, float, float | None]]:
    mse = metrics["per_channel"]["mse"]
    r2 = metrics["per_channel"]["r2"]
    return [(name, mse[name], r2[name]) for name in sorted(mse, key=mse.get, reverse=True)[:count]]


def oracle_lines(oracle: dict) -> str:
    lines = [f"against the oracle of this {oracle['split']} split (the synthetic corpus's noise floor):"]
    for channels, label in ((NUM_BLENDSHAPES, "52 blendshapes"), (NUM_LIVELINK, "61 channels")):
        mse, ratio = oracle[f"test_mse_{channels}"], oracle[f"ratio_{channels}"]
        if mse is not None:
            lines.append(
                f"  {label:<16}MSE {mse:.6f}, oracle {oracle[f'mse_{channels}']:.6f}: "
                + ("-" if ratio is None else f"{ratio:.2f}x the oracle")
            )
    return "\n".join(lines)
