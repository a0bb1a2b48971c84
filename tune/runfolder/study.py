"""Where a run's Optuna study lives, and its local copy for a run behind a URI.

SQLite needs a local file. A local run keeps its study in the run folder
(optuna.db). A run behind a URI keeps the driver's study in the au2bs cache,
under one key per run, and publishes it into the run folder at the end of
a search and on an interrupt; a resume and `tune.best` fetch it back into
that same place unless the cached copy is newer (a driver killed before it
could publish).
"""

from __future__ import annotations

from pathlib import Path

from tune.runfolder import storage
from tune.runfolder.layout import OPTUNA_FILE

CACHE_KIND = "optuna"  # the cache folder of studies behind URIs


def study_file(run_path: str) -> Path:
    """The local file of the study of the run at `run_path`."""
    if not storage.is_uri(run_path):
        return Path(run_path) / OPTUNA_FILE
    return storage.cache_path(CACHE_KIND, run_path, OPTUNA_FILE)


def study_url(run_path: str) -> str:
    """SQLite URL of the study the driver writes (its folder made)."""
    path = study_file(run_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def fetch_study(run_path: str) -> bool:
    """For a run behind a URI: its published study into the local copy, unless that is newer.

    Returns whether a local study file exists afterwards. OSError when the copy fails.
    """
    local = study_file(run_path)
    if storage.is_uri(run_path):
        remote = storage.join(run_path, OPTUNA_FILE)
        remote_time = storage.modified(remote)
        if remote_time is not None and (not local.is_file() or local.stat().st_mtime < remote_time):
            storage.copy_file(remote, str(local))
    return local.is_file()


def publish_study(run_path: str) -> None:
    """A run behind a URI gets its study into the run folder (end of search, interrupt)."""
    local = study_file(run_path)
    if storage.is_uri(run_path) and local.is_file():
        storage.copy_file(str(local), storage.join(run_path, OPTUNA_FILE))


def existing_study_url(run_path: str) -> str | None:
    """SQLite URL of the run's study for reading, fetched first for a run behind a URI; None without one."""
    try:
        found = fetch_study(run_path)
    except OSError:
        return None
    return f"sqlite:///{study_file(run_path)}" if found else None
