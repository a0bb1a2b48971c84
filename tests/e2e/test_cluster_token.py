"""The cluster path, emulated on this machine: a head started as cluster.yaml starts it (token
authentication on, token in ~/.ray/au2bs-token), then the README's driver command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from tune_helpers import small_dataset

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _driver(home, address, dataset, storage, name, timeout=240) -> subprocess.CompletedProcess:
    """The README's `ray exec` command, as the node's login shell would run it (HOME, no RAY_AUTH_*).

    `--address auto` finds the head as on a cluster node; RAY_ADDRESS (which `auto` reads first)
    makes sure it is this test's head when other Ray instances run on the machine.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(HOME=str(home), RAY_ADDRESS=address)
    command = [
        sys.executable, "-m", "tune.run", "--arch", "fcnet", "--data", str(dataset), "--num-samples", "1",
        "--max-epochs", "1", "--address", "auto", "--storage", str(storage), "--name", name,
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_readme_driver_joins_a_token_cluster(tmp_path):
    dataset = small_dataset(tmp_path / "data")
    home = tmp_path / "home"
    token = home / ".ray" / "au2bs-token"
    token.parent.mkdir(parents=True)
    # The README's set-up command, run by a shell.
    subprocess.run(
        ["bash", "-c", "(umask 077; mkdir -p ~/.ray && openssl rand -hex 32 > ~/.ray/au2bs-token)"],
        env={**os.environ, "HOME": str(home)},
        check=True,
    )
    assert token.stat().st_mode & 0o777 == 0o600 and len(token.read_text().strip()) == 64

    # The head, as head_start_ray_commands starts it (port and sizes made local).
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(HOME=str(home), RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    port = _free_port()
    head = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--block",
        ],  # fmt: skip
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(8)  # the head writes its address where `--address auto` finds it
        assert head.poll() is None, "the head did not start"
        joined = _driver(home, f"127.0.0.1:{port}", dataset, tmp_path / "runs", "token")
        assert joined.returncode == 0, joined.stdout[-2000:] + joined.stderr[-2000:]
        assert "best configuration of fcnet" in joined.stdout
        # Control: without the token the same command is refused by the cluster.
        stranger = tmp_path / "stranger"
        stranger.mkdir()
        refused = _driver(stranger, f"127.0.0.1:{port}", dataset, tmp_path / "runs", "no-token", timeout=120)
        assert refused.returncode != 0
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
