"""A resumed run searches where it lies now, even when it was moved or copied since it started.

Ray restores the search generator's experiment, and with it the storage new
trials are created in, from the saved state: a moved run would start its
remaining trials at its old place (and fail there). The trials Ray restores
are repointed by Ray itself. `relocate` is called on the restored generator
before the search runs; Ray applies the saved state when the search starts.
"""

from __future__ import annotations

import copy

from ray.tune.search import SearchGenerator


def storage_at(storage_path: str):
    """Ray's (filesystem, path) pair for a storage folder or URI.

    Ray keeps this in a private module (ray.train._internal.storage); a Ray that
    moves or renames it fails here, at the first resume, and in tests/unit.
    """
    from ray.train._internal.storage import get_fs_and_path

    return get_fs_and_path(storage_path, None)


class RelocatableSearchGenerator(SearchGenerator):
    """Ray's SearchGenerator, whose restored state points new trials at the run's current storage.

    Its class name is part of the run's saved state (Ray keys searcher state
    by class name): keep it.
    """

    def relocate(self, study_url: str, storage_path: str) -> None:
        """Where the run lies now: its study (for the Optuna searcher inside) and its storage."""
        self._relocated_storage = storage_path
        inner = self.searcher
        while not hasattr(inner, "relocate") and hasattr(inner, "searcher"):
            inner = inner.searcher  # through ConcurrencyLimiter and DeadlineSearcher
        if not hasattr(inner, "relocate"):
            raise TypeError(f"no relocatable Optuna searcher inside {type(self.searcher).__name__}")
        inner.relocate(study_url)

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        target = getattr(self, "_relocated_storage", None)
        if target is None or self._experiment is None:
            return
        storage = copy.copy(self._experiment.storage)
        storage.storage_filesystem, storage.storage_fs_path = storage_at(target)
        self._experiment.storage = storage
        self._experiment.spec["storage"] = storage
