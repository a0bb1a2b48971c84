"""Shared fixtures: where the real data lives, and quiet, test-friendly environment."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

# Tests import the helper modules beside them, and the ones they share with the benchmarks (bench/).
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "bench"))

# Ray notes: token auth must be off for local test clusters; usage stats are noise.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

# Every Ray the tests start (in process, in subprocesses, multi-node clusters) keeps its session
# files under RAY_TMPDIR: a folder of this test run, removed when it ends (about 50 MB per Ray).
RAY_TMPDIR = tempfile.mkdtemp(prefix="au2bs-ray-")
os.environ["RAY_TMPDIR"] = RAY_TMPDIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(RAY_TMPDIR, ignore_errors=True)


# The test models are tiny: one thread beats two fighting over 2 cores.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIVELINK_TAKES = SHARED_DATA / "livelinkface"


@pytest.fixture
def real_takes() -> list[Path]:
    """The real Live Link Face takes of ../shared/data, or a skip when absent."""
    takes = sorted(LIVELINK_TAKES.glob("*.csv")) if LIVELINK_TAKES.is_dir() else []
    if not takes:
        pytest.skip(
            f"real Live Link Face takes not found at {LIVELINK_TAKES} (only beside the project checkout)"
        )
    return takes
