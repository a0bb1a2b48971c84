"""What a search prints when it ends: its summary.json in words."""

from __future__ import annotations


def format_summary(summary: dict) -> str:
    best = summary["best"]
    interrupted = summary.get("interrupted")
    if best is None:
        lines = ["", f"{summary['arch']}: {summary['no_best']}"]
    else:
        label = (
            f"best so far of {summary['arch']}, search interrupted by {interrupted}"
            if interrupted
            else f"best configuration of {summary['arch']}"
        )
        lines = [
            "",
            f"{label} (trial {best['trial_id']}, epoch {best['epoch']}):",
            *[f"  {name:<18}{value}" for name, value in best["config"].items()],
            f"  validation MSE {best['val_mse']:.6f}, R2 {best['val_r2']:.3f} (52 blendshapes)",
        ]
    research = summary["research_config"]["val_mse"]
    if summary["improvement_over_research_pct"] is not None:
        lines.append(
            f"  research configuration: validation MSE {research:.6f}; the search improves on it by "
            f"{summary['improvement_over_research_pct']:.1f} %"
        )
    lines += [
        f"trials: {', '.join(f'{n} {k}' for k, n in summary['trials'].items())}; {summary['epochs_run']} epochs in {summary['wall_seconds']:.0f} s",
        *([f"nodes: {summary['placement']}"] if summary.get("placement") else []),
        *[f"note: {note}" for note in summary["notes"]],
        *([f"checkpoint: {best['checkpoint']}"] if best else []),
        f"inspect:    {summary['inspect']}",
        *([f"resume:     {summary['resume']}"] if interrupted else []),
    ]
    return "\n".join(lines)
