"""cluster.yaml and cluster-onprem.yaml, validated offline as the Ray launcher would."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


def validate(raw: dict) -> dict:
    jsonschema.validate(raw, SCHEMA)
    prepared = prepare_config(copy.deepcopy(raw))
    validate_config(prepared)
    return prepared


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster-onprem.yaml"])
def test_cluster_files_validate(name):
    raw = yaml.safe_load((ROOT / name).read_text())
    validate(raw)
    # Versions are pinned, and Ray's token authentication is on for every node.
    setup = " ".join(raw["setup_commands"])
    assert "torch==2.13.0" in setup
    # The nodes get the pins of cluster-requirements.txt and the project with its real dependencies.
    assert "pip install --quiet -r ~/au2bs-tune/cluster-requirements.txt" in setup
    assert "pip install --quiet -e ~/au2bs-tune" in setup and "--no-deps" not in setup
    # Every process of a node, the driver of `ray exec` included, finds the token.
    assert "RAY_AUTH_TOKEN_PATH=~/.ray/au2bs-token" in setup and ">> ~/.bashrc" in setup
    for commands in (raw["head_start_ray_commands"], raw["worker_start_ray_commands"]):
        assert "RAY_AUTH_MODE=token" in " ".join(commands)
    assert "--dashboard-host=127.0.0.1" in " ".join(raw["head_start_ray_commands"])


def test_aws_cluster_is_safe_to_run():
    raw = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    rules = raw["provider"]["security_group"]["IpPermissions"]
    assert [(r["FromPort"], r["ToPort"]) for r in rules] == [(22, 22)]  # SSH only: no dashboard, no Ray port
    assert all(not r["CidrIp"].startswith("0.0.0.0") for rule in rules for r in rule["IpRanges"])
    worker = raw["available_node_types"]["gpu_worker"]
    assert worker["resources"]["GPU"] == 1 and "IamInstanceProfile" in worker["node_config"]
    assert all(
        node["node_config"]["ImageId"].startswith("ami-") for node in raw["available_node_types"].values()
    )


def test_validation_catches_broken_variants():
    raw = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    unknown_key = copy.deepcopy(raw)
    unknown_key["max_wrokers"] = 4
    with pytest.raises(jsonschema.ValidationError, match="max_wrokers"):
        validate(unknown_key)
    fractional = copy.deepcopy(raw)
    fractional["available_node_types"]["gpu_worker"]["resources"]["GPU"] = 0.5
    with pytest.raises(jsonschema.ValidationError, match="0.5"):
        validate(fractional)
    wrong_head = copy.deepcopy(raw)
    wrong_head["head_node_type"] = "nonexistent"
    with pytest.raises(ValueError, match="head_node_type"):
        validate(wrong_head)


def test_cluster_requirements_pin_every_dependency_within_its_range():
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for line in (ROOT / "cluster-requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier  # exactly one pin each
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = spec.version
    assert "ray[default,tune]==2.60.0" in (ROOT / "cluster-requirements.txt").read_text()
    for text in project:
        requirement = Requirement(text)
        if requirement.name == "torch":
            continue  # installed first, from the CUDA index, by the cluster files
        assert requirement.name.lower() in pins, f"{requirement.name} is not pinned for the cluster"
        assert requirement.specifier.contains(pins[requirement.name.lower()]), text


def test_onprem_file_says_how_to_close_the_firewall():
    text = (ROOT / "cluster-onprem.yaml").read_text()
    for command in ("ufw default deny incoming", "ufw allow 22/tcp", "ufw allow from", "ufw enable"):
        assert command in text
