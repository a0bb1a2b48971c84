"""The README's two commands: one sets up and runs the main job, one sets up and runs the tests, and
CI runs exactly the second."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"^```bash\n(.*?)^```", quick, flags=re.S | re.M)][:2]


def test_the_two_commands_are_make_search_and_make_test():
    assert _quick_start_commands() == ["make search", "make test"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci[-1] == "make test"  # exactly the README's test command, last


def test_make_search_runs_the_main_job_and_make_test_checks_style_then_tests():
    def dry_run(target: str) -> list[str]:
        # -n prints the commands without running them; VENV is taken as already set up. Run inside
        # `make test`, the outer make's settings must not reach this one.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VENV")}
        done = subprocess.run(
            ["make", "-n", "--no-print-directory", "VENV=.venv", "ARGS=", "-o", ".venv/.installed", target],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.splitlines()

    assert dry_run("search") == [".venv/bin/python -m tune.run --arch grunet0.5 "]
    assert dry_run("test") == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/pytest ",
    ]
