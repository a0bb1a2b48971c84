"""One driver per run: a lock in the run folder, held for as long as the driver lives.

Two drivers writing one run folder lose trials from trials.parquet, double
the study and delete checkpoints under running trials. So a driver holds
`driver.lock` in its run folder while it runs:

- local folders (and NFS): an flock on the file. The kernel drops it when
  the driver dies, even by SIGKILL, so a lock left by a killed driver is
  stale by construction and `--resume` takes it over. The file says who
  holds it (host, pid, since when), for the refusal message.
- runs behind a URI: a lease object refreshed every LEASE_HEARTBEAT_S; one
  not refreshed for LEASE_STALE_S belongs to a dead driver. Object stores
  have no atomic create here, so two drivers starting within a heartbeat of
  each other can both pass: the lease re-reads itself after writing to
  narrow that window.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path

from au2bs.errors import InputError
from tune.runfolder import storage
from tune.runfolder.layout import CONFIG_FILE

LOCK_FILE = "driver.lock"
LEASE_HEARTBEAT_S = 20.0
LEASE_STALE_S = 90.0
NAME_TAKEN = "a run of that name exists; pick another --name or --resume it"


def _me() -> dict:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "heartbeat": time.time(),
    }


def _describe(holder: dict) -> str:
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


class RunLock:
    """Held by the one driver of a run; `release` (or the driver's death) frees it."""

    def __init__(self, run_path: str) -> None:
        self.run_path = run_path.rstrip("/")
        self.is_uri = storage.is_uri(run_path)
        self.previous: dict | None = None  # the holder of a stale lock this driver took over
        self._handle = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- local: flock ----------------------------------------------------------

    @classmethod
    def new_run(cls, run_path: str) -> RunLock:
        """Creates the run folder and locks it in one step; InputError when the name is taken."""
        lock = cls(run_path)
        if lock.is_uri:
            lock._lease(new_run=True)
            return lock
        try:
            Path(run_path).mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            refuse_existing(run_path)
        lock._flock()
        return lock

    @classmethod
    def resume(cls, run_path: str) -> RunLock:
        """Locks an existing run; takes over a lock whose driver is gone."""
        lock = cls(run_path)
        if lock.is_uri:
            lock._lease(new_run=False)
        else:
            lock._flock()
        return lock

    def _flock(self) -> None:
        path = Path(self.run_path) / LOCK_FILE
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _parse(handle.read())
            handle.close()
            raise InputError(
                f"run is in use by another driver ({_describe(holder)})", self.run_path
            ) from None
        handle.seek(0)
        self.previous = _parse(handle.read()) or None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(_me()) + "\n")
        handle.flush()
        self._handle = handle  # kept open: closing it would drop the lock

    # -- URI: a lease with a heartbeat -------------------------------------------

    def _lease(self, new_run: bool) -> None:
        text = storage.read_text(storage.join(self.run_path, LOCK_FILE))
        holder = _parse(text) if text else None
        if (
            holder
            and holder.get("released") is None
            and time.time() - holder.get("heartbeat", 0) < LEASE_STALE_S
        ):
            raise InputError(f"run is in use by another driver ({_describe(holder)})", self.run_path)
        if new_run and storage.read_text(storage.join(self.run_path, CONFIG_FILE)) is not None:
            raise InputError(NAME_TAKEN, self.run_path)
        self.previous = holder if holder and holder.get("released") is None else None
        mine = _me()
        self._write_lease(mine)
        time.sleep(0.5)  # another driver that wrote at the same moment wins or loses here
        again = _parse(storage.read_text(storage.join(self.run_path, LOCK_FILE)) or "")
        if (again.get("host"), again.get("pid"), again.get("since")) != (
            mine["host"],
            mine["pid"],
            mine["since"],
        ):
            raise InputError(f"run is in use by another driver ({_describe(again)})", self.run_path)

        def beat() -> None:
            while not self._stop.wait(LEASE_HEARTBEAT_S):
                self._write_lease({**mine, "heartbeat": time.time()})

        self._thread = threading.Thread(target=beat, name="run-lease", daemon=True)
        self._thread.start()

    def _write_lease(self, record: dict) -> None:
        storage.write_bytes(storage.join(self.run_path, LOCK_FILE), (json.dumps(record) + "\n").encode())

    # -- both ------------------------------------------------------------------

    def took_over_note(self) -> str | None:
        if not self.previous or self.previous.get("pid") == os.getpid():
            return None
        return f"took over the lock of a driver that is gone ({_describe(self.previous)})"

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # drops the flock; the file stays, saying who held it last
            self._handle = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._write_lease({**_me(), "released": time.time()})
            self._thread = None


def live_holder(run_path: str) -> dict | None:
    """Who holds the lock of the local run at `run_path` now; None when nobody does."""
    path = Path(run_path) / LOCK_FILE
    if not path.is_file():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return _parse(handle.read())
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def refuse_existing(run_path: str):
    """The refusal for a run name that is taken: by a live driver, or by a finished run."""
    holder = live_holder(run_path)
    if holder is not None:
        raise InputError(f"run is in use by another driver ({_describe(holder)})", run_path)
    raise InputError(NAME_TAKEN, run_path)


def _parse(text: str | None) -> dict:
    try:
        value = json.loads(text or "")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
