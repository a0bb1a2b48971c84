"""Every bad input the builder meets: a clear message, exit 2, no partial dataset."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pairs_factory import write_corpus

from au2bs.constants import MANIFEST_FILE
from au2bs.data.__main__ import main


def _replace_line(path: Path, line: int, make):
    lines = path.read_text().splitlines()
    lines[line - 1] = make(lines[line - 1])
    path.write_text("\n".join(lines) + "\n")


def _set_cell(path: Path, line: int, column: str, value: str):
    separator = ", " if ", " in path.read_text().splitlines()[0] else ","
    header = path.read_text().splitlines()[0].split(separator)
    index = header.index(column)

    def edit(text: str) -> str:
        cells = text.split(separator)
        cells[index] = value
        return separator.join(cells)

    _replace_line(path, line, edit)


def _header_only(path: Path):
    path.write_text(path.read_text().splitlines()[0] + "\n")


def _drop_column(path: Path, column: str):
    lines = [line.split(", ") for line in path.read_text().splitlines()]
    index = lines[0].index(column)
    path.write_text("\n".join(", ".join(cells[:index] + cells[index + 1 :]) for cells in lines) + "\n")


def _drop_last_channel(path: Path):
    lines = [line.split(",") for line in path.read_text().splitlines()]
    path.write_text("\n".join(",".join(cells[:-1]) for cells in lines) + "\n")


def _all_failed(path: Path):
    lines = path.read_text().splitlines()
    header = lines[0].split(", ")
    success = header.index("success")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(", ")
        cells[success] = "0"
        out.append(", ".join(cells))
    path.write_text("\n".join(out) + "\n")


def _every_other_row(path: Path):
    """A take recorded at 30 fps: rows two 60 fps frames apart."""
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], *lines[1::2]]) + "\n")


def _frames_count_to_29(path: Path):
    """A 30 fps take's timecodes: frame numbers 0-29, one row per frame, over several seconds."""
    lines = path.read_text().splitlines()
    out = [lines[0]]
    for index, line in enumerate(lines[1:]):
        seconds, frame = divmod(index, 30)
        cells = line.split(",")
        cells[0] = f"10:00:{seconds:02d}:{frame:02d}.000"
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")


OF = "openface/utt01.csv"
LL = "livelink/utt01.csv"

# (case, file to break, how, pattern the message must match: file + where)
CASES = [
    (
        "missing AU column",
        OF,
        lambda p: _drop_column(p, "AU12_r"),
        r"utt01\.csv:1: missing column\(s\) AU12_r",
    ),
    (
        "non-numeric value",
        OF,
        lambda p: _set_cell(p, 7, "AU04_r", "abc"),
        r"utt01\.csv:7 \(column AU04_r\): value 'abc'",
    ),
    (
        "NaN value",
        OF,
        lambda p: _set_cell(p, 9, "AU45_r", "nan"),
        r"utt01\.csv:9 \(column AU45_r\): value 'nan' is not a finite",
    ),
    ("empty file", OF, lambda p: p.write_text(""), r"utt01\.csv: empty OpenFace file"),
    ("header only", LL, _header_only, r"utt01\.csv: Live Link Face file has a header but no data rows"),
    (
        "duplicate timestamp",
        OF,
        lambda p: _set_cell(p, 5, "timestamp", "0.034"),
        r"utt01\.csv:5 \(column timestamp\): timestamp is not after",
    ),
    (
        "decreasing timestamp",
        OF,
        lambda p: _set_cell(p, 12, "timestamp", "0.001"),
        r"utt01\.csv:12 \(column timestamp\): timestamp is not after",
    ),
    (
        "wrong channel count",
        LL,
        _drop_last_channel,
        r"utt01\.csv:1: wrong blendshape channel count: 60 channels",
    ),
    (
        "unparseable timecode",
        LL,
        lambda p: _set_cell(p, 4, "Timecode", "18:43:5x:01"),
        r"utt01\.csv:4 \(column Timecode\): unparseable timecode",
    ),
    ("every frame failed", OF, _all_failed, r"utt01\.csv: every frame failed"),
    (
        "huge timestamp",
        OF,
        lambda p: _set_cell(p, 40, "timestamp", "1e30"),
        r"utt01\.csv:40 \(column timestamp\): value 1e\+30 is outside the plausible 0\.\.86400",
    ),
    (
        "AU far above 5",
        OF,
        lambda p: _set_cell(p, 6, "AU12_r", "37.5"),
        r"utt01\.csv:6 \(column AU12_r\): value 37\.5 is outside the plausible -0\.5\.\.5\.5",
    ),
    (
        "blendshape 1e30",
        LL,
        lambda p: _set_cell(p, 8, "JawOpen", "1e30"),
        r"utt01\.csv:8 \(column JawOpen\): value 1e\+30 is outside the plausible -0\.05\.\.1\.05",
    ),
    (
        "30 fps rows",
        LL,
        lambda p: _every_other_row(p),
        r"utt01\.csv:2 \(column Timecode\): rows are 33\.3 ms apart",
    ),
    (
        "30 fps timecodes",
        LL,
        lambda p: _frames_count_to_29(p),
        r"utt01\.csv:2 \(column Timecode\): timecode frame numbers only count 0-29",
    ),
    (
        "pairs.csv extra field",
        "pairs.csv",
        lambda p: _replace_line(p, 3, lambda t: t + ",surplus"),
        r"pairs\.csv:3: 1 more field\(s\)",
    ),
    ("missing file", OF, lambda p: p.unlink(), r"utt01\.csv: file named by pair 'utt01' not found"),
]


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "raw", count=6)


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name != "raw")


@pytest.mark.parametrize("case, target, breaker, pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input_stops_with_a_clear_message(corpus, capsys, case, target, breaker, pattern):
    breaker(corpus / target)
    out = corpus.parent / "dataset"
    assert main(["build", str(corpus), str(out), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert re.search(pattern, message), message
    assert not out.exists() and _leftovers(corpus.parent) == []


# A broken manifest has no pair to skip: it stops the build even with --skip-bad.
PAIR_CASES = [c for c in CASES if c[1] != "pairs.csv"]


@pytest.mark.parametrize("case, target, breaker, pattern", PAIR_CASES, ids=[c[0] for c in PAIR_CASES])
def test_skip_bad_records_the_reason_and_goes_on(corpus, case, target, breaker, pattern):
    breaker(corpus / target)
    out = corpus.parent / "dataset"
    assert main(["build", str(corpus), str(out), "--quiet", "--skip-bad"]) == 0
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert [r["id"] for r in manifest["rejected"]] == ["utt01"]
    assert re.search(pattern, manifest["rejected"][0]["reason"])
    assert manifest["counts"]["utterances"] == 5 and "utt01" not in manifest["pairs"]


def test_no_time_overlap(corpus, capsys):
    out = corpus.parent / "dataset"
    # A fixed lag longer than the take leaves no frame in common.
    assert main(["build", str(corpus), str(out), "--quiet", "--lag", "fixed:900"]) == 2
    assert "do not overlap in time" in capsys.readouterr().err
    assert not out.exists() and _leftovers(corpus.parent) == []


def test_existing_output_is_not_overwritten_without_force(corpus, capsys):
    out = corpus.parent / "dataset"
    assert main(["build", str(corpus), str(out), "--quiet"]) == 0
    before = (out / MANIFEST_FILE).stat().st_mtime_ns
    assert main(["build", str(corpus), str(out), "--quiet", "--seed", "3"]) == 2
    assert "use --force" in capsys.readouterr().err
    assert (out / MANIFEST_FILE).stat().st_mtime_ns == before
    assert main(["build", str(corpus), str(out), "--quiet", "--seed", "3", "--force"]) == 0
    assert json.loads((out / MANIFEST_FILE).read_text())["seed"] == 3
    assert _leftovers(corpus.parent) == ["dataset"]


def test_force_refuses_to_replace_a_folder_that_is_not_a_dataset(corpus, capsys):
    precious = corpus.parent / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    assert main(["build", str(corpus), str(precious), "--quiet", "--force"]) == 2
    assert "not a dataset" in capsys.readouterr().err
    assert (precious / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--lag", "sometimes"], "--lag must be xcorr, none or fixed:N"),
        (["--split", "70/30"], "--split must look like 70/10/20"),
        (["--split-by", "speaker", "--split", "100/0/0"], None),
    ],
)
def test_bad_flags(corpus, capsys, flags, message):
    out = corpus.parent / "dataset"
    code = main(["build", str(corpus), str(out), "--quiet", *flags])
    if message is None:
        assert code == 0  # a single split is allowed
    else:
        assert code == 2 and message in capsys.readouterr().err and not out.exists()


def test_source_without_pairs_and_info_on_a_non_dataset(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["build", str(tmp_path / "empty"), str(tmp_path / "out"), "--quiet"]) == 2
    assert "neither pairs.csv nor openface/ + livelink/" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "empty")]) == 2
    assert "not a dataset" in capsys.readouterr().err


_TOKENS = ["", "nan", "inf", "-inf", "1e308", "-1e30", "abc", "99999", "-5", "1,2", '"', "0x10", "١"]


def _damage(path: Path, rng) -> str:
    """One random kind of damage to a text file; returns what was done."""
    data = path.read_bytes()
    lines = data.decode("utf-8", errors="replace").splitlines()
    kind = rng.choice(
        ["truncate", "cell", "drop line", "duplicate line", "swap lines", "bytes", "extra field"]
    )
    if kind == "truncate":
        path.write_bytes(data[: int(rng.integers(0, len(data)))])
    elif kind == "bytes":
        at = int(rng.integers(0, len(data)))
        path.write_bytes(data[:at] + bytes(rng.integers(0, 256, 8).tolist()) + data[at:])
    else:
        index = int(rng.integers(1, len(lines))) if len(lines) > 1 else 0
        if kind == "cell":
            separator = ", " if ", " in lines[0] else ","
            cells = lines[index].split(separator)
            cells[int(rng.integers(0, len(cells)))] = str(rng.choice(_TOKENS))
            lines[index] = separator.join(cells)
        elif kind == "drop line":
            del lines[index]
        elif kind == "duplicate line":
            lines.insert(index, lines[index])
        elif kind == "swap lines":
            other = int(rng.integers(1, len(lines)))
            lines[index], lines[other] = lines[other], lines[index]
        elif kind == "extra field":
            lines[index] += ",surplus"
        path.write_text("\n".join(lines) + "\n")
    return kind


def test_randomly_damaged_files_never_reach_a_traceback_nor_leave_anything(tmp_path, capsys):
    """Property: whatever the damage, build answers exit 0, or exit 2 with one line and nothing written."""
    import numpy as np

    rng = np.random.default_rng(2026)
    clean = write_corpus(tmp_path / "clean", count=3)
    targets = ["openface/utt00.csv", "livelink/utt01.csv", "pairs.csv", "openface/utt02.csv"]
    outcomes = {0: 0, 2: 0}
    for trial in range(40):
        work = tmp_path / f"case{trial}"
        shutil.copytree(clean, work / "raw")
        target = targets[trial % len(targets)]
        kind = _damage(work / "raw" / target, rng)
        out = work / "dataset"
        code = main(["build", str(work / "raw"), str(out), "--quiet"])  # an exception fails the test
        err = capsys.readouterr().err
        assert code in outcomes, (trial, target, kind, code, err)
        outcomes[code] += 1
        if code == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, (trial, target, kind, err)
            assert not out.exists() and sorted(p.name for p in work.iterdir()) == ["raw"], (trial, kind)
        shutil.rmtree(work)
    assert outcomes[2] >= 20, outcomes  # most damage is caught, not silently accepted
