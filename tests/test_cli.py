"""One command-line layer: every entry point answers bad input with one line and exit 2, the shared
flags are checked once, and tune.run's flags are SearchOptions' fields."""

from __future__ import annotations

import dataclasses

import pytest

from au2bs.data.__main__ import main as data_main
from au2bs.predict import main as predict_main
from au2bs.synth.__main__ import main as synth_main
from au2bs.train.__main__ import main as train_main
from tune.best import main as best_main
from tune.compare import main as compare_main
from tune.flags import parser, resolve
from tune.run import main as run_main
from tune.runfolder.settings import FLAG_FIELDS, PARTS, SearchOptions


def test_every_entry_point_answers_bad_input_with_one_line(tmp_path, capsys):
    missing = str(tmp_path / "missing")
    cases = [
        (train_main, ["--arch", "grunet9", "--out", missing], "unknown architecture 'grunet9'"),
        (train_main, ["--arch", "fcnet", "--out", missing, "--device", "tpu"], "--device must be"),
        (predict_main, ["--checkpoint", missing, "--openface", missing, "--out", missing, "--device", "tpu"],
         "--device must be"),
        (predict_main, ["--checkpoint", missing, "--openface", missing, "--out", missing], "not found"),
        (data_main, ["info", missing], "not found"),
        (synth_main, [missing, "--speakers", "0"], "speakers"),
        (run_main, ["--arch", "grunet9"], "unknown architecture 'grunet9'"),
        (best_main, [missing], "run folder not found"),
        (compare_main, [missing], "run folder not found"),
    ]  # fmt: skip
    for entry, argv, message in cases:
        assert entry(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, (argv, captured.err)
        assert message in captured.err, (argv, captured.err)
    assert not (tmp_path / "missing").exists()  # nothing half-written


def test_tune_run_flags_are_the_search_options_fields():
    help_text = parser().format_help()
    assert help_text.startswith("usage: python -m tune.run (--arch ARCH | --resume NAME) [options]")
    flagged = {f.name for _, f in FLAG_FIELDS}
    own = {"arch", "data", "seed", "storage", "name"}  # flags with checks of their own
    assert flagged | own == {f.name for part in PARTS.values() for f in dataclasses.fields(part)}
    for _, f in FLAG_FIELDS:
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        assert flag in help_text, flag
    # Flags in, the same options back from the run folder's config.json.
    args = parser().parse_args(
        ["--arch", "fcnet", "--num-samples", "5", "--gpus-per-trial", "0", "--seed", "3"]
    )
    options = resolve(args, "fcnet", "x")
    plan, resources = options.plan, options.resources
    assert (plan.num_samples, resources.gpus_per_trial, plan.seed, plan.max_epochs) == (5, 0.0, 3, 9)
    assert SearchOptions.from_json(options.to_json()) == options
    smoke = resolve(parser().parse_args(["--arch", "fcnet", "--smoke-test"]), "fcnet", "x")
    assert (smoke.plan.num_samples, smoke.plan.max_epochs, smoke.plan.train_fraction) == (4, 3, 0.05)


@pytest.mark.parametrize("flag", [f.metadata["flag"] or "--" + f.name.replace("_", "-") for _, f in FLAG_FIELDS
                                  if f.metadata["minimum"]])  # fmt: skip
def test_every_checked_flag_refuses_a_negative_value(flag, tmp_path, capsys):
    assert run_main(["--arch", "fcnet", flag, "-1", "--storage", str(tmp_path)]) == 2
    assert f"{flag} must be" in capsys.readouterr().err
