"""Seeded train / val / test splits by utterance or by speaker."""

from __future__ import annotations

from collections import Counter

import numpy as np

from au2bs.constants import SPLITS
from au2bs.errors import InputError


def split_utterances(
    utterances: dict[str, str],
    by: str,
    fractions: tuple[float, float, float],
    seed: int,
) -> dict[str, str]:
    """Assigns each utterance (id -> speaker) to a split.

    By utterance: a seeded shuffle cut at the fractions. By speaker: whole
    speakers go to one split (no speaker is seen in training and tested
    on), filled greedily so each split's share of utterances is as close to
    its fraction as whole speakers allow.

    Returns:
        utterance id -> "train" | "val" | "test"
    """
    rng = np.random.default_rng(seed)
    if by == "utterance":
        ids = sorted(utterances)
        order = [ids[i] for i in rng.permutation(len(ids))]
        return _cut(order, fractions)
    if by != "speaker":
        raise InputError(f"cannot split by {by!r}")
    sizes = Counter(utterances.values())
    needed = sum(1 for f in fractions if f > 0)
    if len(sizes) < needed:
        raise InputError(
            f"--split-by speaker needs at least {needed} speakers, found {len(sizes)} ({', '.join(sorted(sizes))})"
        )
    speakers = sorted(sizes)
    speakers = [speakers[i] for i in rng.permutation(len(speakers))]
    total = sum(sizes.values())
    filled = dict.fromkeys(SPLITS, 0)
    assignment: dict[str, str] = {}
    # Every split with a non-zero fraction gets one speaker first, then the
    # rest go where the shortfall against the target share is largest.
    wanted = [name for name, f in zip(SPLITS, fractions) if f > 0]
    for speaker, split in zip(speakers, wanted):
        assignment[speaker] = split
        filled[split] += sizes[speaker]
    for speaker in speakers[len(wanted) :]:
        split = max(wanted, key=lambda s: fractions[SPLITS.index(s)] * total - filled[s])
        assignment[speaker] = split
        filled[split] += sizes[speaker]
    return {utterance: assignment[speaker] for utterance, speaker in utterances.items()}


def _cut(order: list[str], fractions: tuple[float, float, float]) -> dict[str, str]:
    count = len(order)
    n_train = int(round(fractions[0] * count))
    n_val = int(round(fractions[1] * count))
    # Small corpora: keep every split with a non-zero fraction non-empty.
    if count >= 3:
        n_val = max(n_val, 1 if fractions[1] > 0 else 0)
        n_test = count - n_train - n_val
        if fractions[2] > 0 and n_test < 1:
            n_train -= 1 - n_test
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, count)}
    return {uid: split for split, (a, b) in bounds.items() for uid in order[a:b]}
