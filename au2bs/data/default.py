"""The built-in dataset: the synthetic corpus, generated and built on first use.

Everything that takes `--data` falls back to this, so the project runs on a
fresh machine with no recordings. It is cached (generation and building take
a while) under `$AU2BS_CACHE`, default `~/.cache/au2bs`, in a folder named by
the generator version and seed, so a new generator never reuses stale data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from au2bs.constants import MANIFEST_FILE
from au2bs.data.build import build_dataset
from au2bs.data.options import BuildOptions
from au2bs.synth import GENERATOR_VERSION, SynthConfig, generate_corpus

CACHE_ENV = "AU2BS_CACHE"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "au2bs")


def default_dataset(
    config: SynthConfig | None = None, progress: bool = True, log: Callable[[str], None] = print
) -> Path:
    """Returns the built synthetic dataset's folder, creating it if needed.

    Args:
        config: generator settings; default `SynthConfig()`, the corpus every
            command uses when it is given no `--data`.
    """
    config = config or SynthConfig()
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode()).hexdigest()[:10]
    home = cache_root() / f"synthetic-v{GENERATOR_VERSION}-{digest}"
    dataset = home / "dataset"
    if (dataset / MANIFEST_FILE).is_file():
        return dataset
    raw = home / "raw"
    if raw.exists():  # left by an interrupted first use: start over
        shutil.rmtree(raw)
    log(f"first use: generating the built-in synthetic corpus into {raw}")
    generate_corpus(raw, config, progress=progress)
    log(f"building the dataset into {dataset}")
    build_dataset(raw, dataset, BuildOptions(seed=config.seed), progress=progress, log=log)
    return dataset


@dataclass(frozen=True)
class ChosenDataset:
    """The dataset a command trains on, and the provenance its checkpoints record."""

    path: Path
    manifest: dict

    @property
    def provenance(self) -> dict:
        """What a checkpoint needs to predict as the dataset was built: where, and the AU preprocessing."""
        return {"dataset": str(self.path), "au_options": self.manifest["options"]["au"]}


def choose_dataset(data: str | Path | None) -> ChosenDataset:
    """`--data` as given, or the built-in dataset when it is None; InputError if it is not a dataset."""
    from au2bs.data.load import read_manifest

    path = default_dataset() if data is None else Path(data)
    return ChosenDataset(path.resolve(), read_manifest(path))
