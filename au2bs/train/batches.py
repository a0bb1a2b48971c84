"""Length-bucketed, seeded batches of variable-length sequences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from au2bs.data import SplitArrays


@dataclass(frozen=True)
class Batch:
    """A zero-padded batch on one device."""

    x: torch.Tensor  # (B, T, 17) float32
    y: torch.Tensor  # (B, T, 61) float32
    lengths: torch.Tensor  # (B,) int64
    mask: torch.Tensor  # (B, T) bool, True at valid frames
    indices: np.ndarray  # (B,) sequence indices into the split


def usable_indices(split: SplitArrays, max_frames: int | None) -> np.ndarray:
    """Indices of the sequences shorter than `max_frames` (all when None)."""
    lengths = split.lengths
    keep = np.ones(len(lengths), bool) if max_frames is None else lengths < max_frames
    return np.flatnonzero(keep)


def epoch_batches(
    split: SplitArrays, indices: np.ndarray, batch_size: int, seed: int, epoch: int
) -> list[np.ndarray]:
    """This epoch's batches: sequences of similar length together, order shuffled.

    Sorting by length (with a random tie-break) before cutting batches keeps
    padding small; shuffling the batches keeps the order random. The draw
    depends only on (seed, epoch), so a resumed run sees the same batches.
    """
    rng = np.random.default_rng([seed, epoch])
    lengths = split.lengths[indices]
    # Jitter lengths by up to 10 % so equal-length sequences mix across epochs.
    noisy = lengths * rng.uniform(0.95, 1.05, size=len(lengths))
    ordered = indices[np.argsort(noisy, kind="stable")]
    batches = [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def evaluation_batches(split: SplitArrays, batch_size: int) -> list[np.ndarray]:
    """Deterministic length-sorted batches for evaluation."""
    ordered = np.argsort(split.lengths, kind="stable")
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def collate(split: SplitArrays, indices: np.ndarray, device: torch.device) -> Batch:
    """Pads the chosen sequences into one batch (copies: the split stays untouched)."""
    lengths = split.lengths[indices]
    longest = int(lengths.max())
    x = np.zeros((len(indices), longest, split.x.shape[1]), dtype=np.float32)
    y = np.zeros((len(indices), longest, split.y.shape[1]), dtype=np.float32)
    for row, index in enumerate(indices):
        start, stop = split.offsets[index], split.offsets[index + 1]
        x[row, : stop - start] = split.x[start:stop]
        y[row, : stop - start] = split.y[start:stop]
    lengths_t = torch.from_numpy(lengths.astype(np.int64))
    mask = torch.arange(longest)[None, :] < lengths_t[:, None]
    return Batch(
        x=torch.from_numpy(x).to(device),
        y=torch.from_numpy(y).to(device),
        lengths=lengths_t.to(device),
        mask=mask.to(device),
        indices=np.asarray(indices),
    )
