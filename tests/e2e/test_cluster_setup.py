"""The cluster files' set-up, run for real: their setup_commands in a fresh virtual environment on this
machine (torch from the local wheel instead of the CUDA index), then the imports and a one-trial search."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from tune_helpers import small_dataset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CUDA_INDEX = " --index-url https://download.pytorch.org/whl/cu128"


def setup_commands(name: str) -> list[str]:
    return yaml.safe_load((ROOT / name).read_text())["setup_commands"]


def test_both_cluster_files_set_nodes_up_the_same_way():
    # The AWS file also activates the venv in .bashrc; the rest is the same, so one test covers both.
    aws = [
        c.replace(" && echo 'source ~/venv/bin/activate' >> ~/.bashrc", "")
        for c in setup_commands("cluster.yaml")
    ]
    assert aws == setup_commands("cluster-onprem.yaml")


def test_cluster_setup_commands_install_a_working_node(tmp_path):
    dataset = small_dataset(tmp_path / "data")
    # The venv is ~2 GB: it goes in a folder removed at the end, not in pytest's kept tmp_path.
    home = Path(tempfile.mkdtemp(prefix="au2bs-node-home-"))
    try:
        (home / "au2bs-tune").symlink_to(ROOT)  # where the cluster files' file_mounts put the project
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env.update(HOME=str(home), PATH="/usr/local/bin:/usr/bin:/bin")
        for command in setup_commands("cluster.yaml"):
            command = command.replace(CUDA_INDEX, "")  # this machine has no GPU: the CPU wheel on disk
            done = subprocess.run(
                ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
        python = home / "venv" / "bin" / "python"
        # A login shell of the node has the token settings the driver of `ray exec` needs.
        shell = subprocess.run(
            ["bash", "-c", "source ~/.bashrc && echo $RAY_AUTH_MODE $RAY_AUTH_TOKEN_PATH && which python"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert shell.stdout.split() == ["token", f"{home}/.ray/au2bs-token", str(python)], shell.stdout

        imports = subprocess.run(
            [str(python), "-c", "import tune.experiment.driver, tune.best, scipy, pyarrow, optuna"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert imports.returncode == 0, imports.stderr[-3000:]
        search = subprocess.run(
            [
                str(python), "-m", "tune.run", "--arch", "fcnet", "--data", str(dataset), "--num-samples", "1",
                "--max-epochs", "1", "--storage", str(tmp_path / "runs"), "--name", "node",
            ],  # fmt: skip
            env={**env, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"},
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip
        assert search.returncode == 0, search.stdout[-2000:] + search.stderr[-2000:]
        assert "best configuration of fcnet" in search.stdout
        assert (tmp_path / "runs" / "node" / "trials.parquet").is_file()
    finally:
        shutil.rmtree(home, ignore_errors=True)
