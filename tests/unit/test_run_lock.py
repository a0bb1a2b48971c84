"""One driver per run: the lock of a local run folder and the lease of a run behind a URI."""

from __future__ import annotations

import json
import time

import pytest

from au2bs.errors import InputError
from tune.runfolder.lock import LEASE_STALE_S, LOCK_FILE, RunLock


def test_a_local_run_has_one_driver_and_a_dead_drivers_lock_is_taken_over(tmp_path):
    run = str(tmp_path / "runs" / "x")
    first = RunLock.new_run(run)  # creates the folder and locks it in one step
    with pytest.raises(InputError, match=r"run is in use by another driver \(pid \d+ on .* since "):
        RunLock.new_run(run)
    with pytest.raises(InputError, match="run is in use by another driver"):
        RunLock.resume(run)
    first.release()  # as the kernel does when the driver dies
    with pytest.raises(InputError, match="a run of that name exists"):
        RunLock.new_run(run)
    again = RunLock.resume(run)
    assert json.loads((tmp_path / "runs" / "x" / LOCK_FILE).read_text())["pid"] > 0
    again.release()


def test_a_run_behind_a_uri_holds_a_lease(tmp_path):
    uri = f"file://{tmp_path}/bucket/x"
    first = RunLock.new_run(uri)
    with pytest.raises(InputError, match="run is in use by another driver"):
        RunLock.resume(uri)
    first.release()
    lease = tmp_path / "bucket" / "x" / LOCK_FILE
    assert json.loads(lease.read_text())["released"]
    second = RunLock.resume(uri)
    assert second.took_over_note() is None  # released cleanly: nothing to take over
    second._stop.set()  # the driver dies without releasing: its lease goes stale
    second._thread.join()
    stale = {**json.loads(lease.read_text()), "pid": 1, "heartbeat": time.time() - LEASE_STALE_S - 1}
    lease.write_text(json.dumps(stale))
    third = RunLock.resume(uri)
    assert "took over the lock of a driver that is gone (pid 1 on" in third.took_over_note()
    third.release()
