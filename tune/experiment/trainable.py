"""The Ray Tune trial: the au2bs training loop, reporting once per epoch.

Trials receive the train and validation splits through the object store
(`tune.with_parameters`): one read-only copy per node, whatever the number
of trials. They never read Parquet and never write into those arrays.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs
import ray
import torch
from ray import tune as ray_tune

from au2bs.data import SplitArrays
from au2bs.train import DivergedError, EpochRecord, TrainConfig, Trainer, load_checkpoint
from tune.runfolder.layout import CHECKPOINT_FILE, METRIC, TRIAL_NUMBER


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of one search shares (the varying part is Ray's config)."""

    arch: str
    max_epochs: int
    seed: int  # the search's master seed; each trial derives its own
    threads: int  # PyTorch CPU threads = CPUs reserved per trial
    gpu_share: float  # fraction of a GPU reserved per trial (0 = CPU)
    provenance: dict  # dataset path and AU preprocessing, saved in checkpoints


def trial_seed(master_seed: int, trial_number: int) -> int:
    """A per-trial seed from the search's seed and the trial's number in the Optuna study.

    Both are the same when the same command runs again (Ray's trial ids are
    random), and a restarted trial keeps its seed.
    """
    digest = hashlib.sha256(f"{master_seed}:{trial_number}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def restore_newest_intact(trainer: Trainer, checkpoint: ray_tune.Checkpoint) -> str | None:
    """Restores the trial's newest checkpoint that loads; returns a note when some did not.

    A truncated or empty latest checkpoint would otherwise fail the trial on
    every retry. The older ones Ray kept (the best few) are tried newest first;
    when none loads, the trial starts again from epoch 0 and says so.
    """
    filesystem, latest = checkpoint.filesystem, checkpoint.path.rstrip("/")
    parent, name = latest.rsplit("/", 1)

    def older() -> list[str]:  # listed only when the newest does not load
        return sorted(
            (
                info.base_name
                for info in filesystem.get_file_info(pafs.FileSelector(parent))
                if info.type == pafs.FileType.Directory
                and info.base_name.startswith("checkpoint_")
                and info.base_name < name
            ),
            reverse=True,
        )

    damaged: list[str] = []
    candidates = [name]
    while candidates:
        candidate = candidates.pop(0)
        try:
            with ray_tune.Checkpoint(f"{parent}/{candidate}", filesystem=filesystem).as_directory() as folder:
                state = load_checkpoint(Path(folder) / CHECKPOINT_FILE)
        except (ValueError, FileNotFoundError, OSError):
            damaged.append(candidate)
            if candidate == name:
                candidates = older()
            continue
        trainer.restore(state)
        if not damaged:
            return None
        return f"damaged checkpoint {', '.join(damaged)}: resumed from {candidate} (epoch {trainer.epoch})"
    return f"every checkpoint damaged ({', '.join(damaged)}): restarted from epoch 0"


def flat_metrics(record: EpochRecord) -> dict:
    val = record.val
    return {
        METRIC: val["blendshapes/mse"],
        "val_r2": val["blendshapes/r2"],
        "val_r2_per_channel": val["blendshapes/r2_per_channel"],
        "val_mse_all": val["all/mse"],
        "val_f1": val["blendshapes/f1"],
        "train_loss": record.train_loss,
        "epoch": record.epoch,
        "epoch_seconds": record.seconds,
    }


def train_trial(config: dict, data: dict[str, SplitArrays], settings: TrialSettings) -> None:
    """One trial: `config` holds this trial's hyperparameters."""
    torch.set_num_threads(max(1, settings.threads))
    device = "cpu"
    if settings.gpu_share > 0 and torch.cuda.is_available():
        device = "cuda"
        # Ray reserves a share of the GPU but does not enforce it: cap ourselves.
        torch.cuda.set_per_process_memory_fraction(min(1.0, settings.gpu_share))
    hyperparameters = dict(config)
    seed = trial_seed(settings.seed, hyperparameters.pop(TRIAL_NUMBER))
    train_config = TrainConfig.for_architecture(
        settings.arch, epochs=settings.max_epochs, patience=None, seed=seed, **hyperparameters
    )
    trainer = Trainer(train_config, data["train"], data["val"], device, settings.provenance)
    checkpoint = ray_tune.get_checkpoint()
    restore_note = restore_newest_intact(trainer, checkpoint) if checkpoint is not None else None
    # Facts about this worker, reported with every result (tests and post-mortems read them).
    shared = {
        "restore_note": restore_note,
        "shared_read_only": not (data["train"].x.flags.writeable or data["val"].y.flags.writeable),
        "started_at": time.time(),
        # Which node and GPUs ran it: on a cluster, a resumed trial shows where it moved.
        "node_id": ray.get_runtime_context().get_node_id(),
        "gpu_ids": ",".join(str(i) for i in ray.get_gpu_ids()),
    }

    def report(record: EpochRecord, trainer: Trainer) -> None:
        with tempfile.TemporaryDirectory() as folder:
            trainer.save(Path(folder) / CHECKPOINT_FILE)
            metrics = {
                **flat_metrics(record),
                "seed": seed,
                "diverged": False,
                "resumed_from": start_epoch,
                **shared,
                "reported_at": time.time(),
            }
            ray_tune.report(metrics, checkpoint=ray_tune.Checkpoint.from_directory(folder))

    start_epoch = trainer.epoch
    try:
        trainer.run(callbacks=(report,))
    except DivergedError as error:
        # inf, never NaN: ASHA ignores NaN trials and Optuna cannot record NaN.
        ray_tune.report(
            {
                METRIC: math.inf,
                "val_r2": -math.inf,
                "epoch": trainer.epoch + 1,
                "seed": seed,
                "diverged": True,
                "error": str(error),
                "resumed_from": start_epoch,
                **shared,
            }
        )
