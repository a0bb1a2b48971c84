"""Readable metric tables for the command line."""

from __future__ import annotations


def format_metrics(metrics: dict) -> str:
    """A small table of `au2bs.metrics.compute_metrics` output: 52 blendshapes and all channels."""
    rows = [
        ("MSE", "mse", "{:.6f}"),
        ("RMSE", "rmse", "{:.4f}"),
        ("MAE", "mae", "{:.4f}"),
        ("R2 pooled", "r2", "{:.3f}"),
        ("R2 per-channel mean", "r2_per_channel", "{:.3f}"),
        ("research MSE (per utt.)", "research_mse", "{:.6f}"),
        ("research R2 (per utt.)", "research_r2", "{:.3f}"),
        ("activation precision", "precision", "{:.3f}"),
        ("activation recall", "recall", "{:.3f}"),
        ("activation F1", "f1", "{:.3f}"),
    ]
    lines = [f"  {'':<26}{'52 blendshapes':>16}{'all channels':>16}"]
    for label, key, fmt in rows:
        cells = [
            fmt.format(metrics[group][key]) if metrics[group].get(key) is not None else "-"
            for group in ("blendshapes", "all")
        ]
        lines.append(f"  {label:<26}{cells[0]:>16}{cells[1]:>16}")
    lines.append(
        f"  ({metrics['utterances']} sequences, {metrics['frames']} frames; active = value > {metrics['activation_eps']})"
    )
    return "\n".join(lines)
