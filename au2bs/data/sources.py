"""Finding the utterance pairs of a raw corpus folder.

Two layouts: a `pairs.csv` manifest (id, openface, livelink, speaker, voice;
paths relative to the folder), or `openface/<id>.csv` + `livelink/<id>.csv`
(speaker and voice unknown).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from au2bs.constants import LIVELINK_DIR, OPENFACE_DIR, PAIRS_FILE
from au2bs.errors import InputError

PAIRS_COLUMNS = ("id", "openface", "livelink", "speaker", "voice")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class PairSource:
    """One utterance: its two recordings and who / how it was spoken."""

    id: str
    openface: Path
    livelink: Path
    speaker: str = UNKNOWN
    voice: str = UNKNOWN


def find_pairs(source: Path) -> list[PairSource]:
    """Lists the pairs of `source`, sorted by id.

    Raises InputError when the folder has neither layout, the manifest is
    malformed, or ids repeat. Missing files are reported per pair later, so
    that `--skip-bad` can record them instead of stopping.
    """
    source = Path(source)
    if not source.is_dir():
        raise InputError("source folder not found", source)
    manifest = source / PAIRS_FILE
    if manifest.is_file():
        pairs = _read_pairs_manifest(manifest)
    elif (source / OPENFACE_DIR).is_dir() and (source / LIVELINK_DIR).is_dir():
        pairs = _pairs_from_layout(source)
    else:
        raise InputError(f"neither {PAIRS_FILE} nor {OPENFACE_DIR}/ + {LIVELINK_DIR}/ folders found", source)
    if not pairs:
        raise InputError("no utterance pairs found", source)
    return sorted(pairs, key=lambda pair: pair.id)


def _read_pairs_manifest(path: Path) -> list[PairSource]:
    try:
        return _parse_pairs_manifest(path)
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text: {' '.join(str(error).split())}", path) from None
    except csv.Error as error:
        raise InputError(f"malformed CSV: {error}", path) from None


def _parse_pairs_manifest(path: Path) -> list[PairSource]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        fields = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in PAIRS_COLUMNS[:3] if name not in fields]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", path, line=1)
        pairs: list[PairSource] = []
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            if None in row:  # csv puts fields beyond the header under None
                raise InputError(
                    f"{len(row[None])} more field(s) than the header's {len(fields)}", path, line=line
                )
            row = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
            for column in PAIRS_COLUMNS[:3]:
                if not row.get(column):
                    raise InputError(f"empty {column}", path, line=line, column=column)
            if row["id"] in seen:
                raise InputError(f"id {row['id']!r} already on line {seen[row['id']]}", path, line=line)
            seen[row["id"]] = line
            pairs.append(
                PairSource(
                    id=row["id"],
                    openface=(path.parent / row["openface"]).resolve(),
                    livelink=(path.parent / row["livelink"]).resolve(),
                    speaker=row.get("speaker") or UNKNOWN,
                    voice=row.get("voice") or UNKNOWN,
                )
            )
    return pairs


def _pairs_from_layout(source: Path) -> list[PairSource]:
    openface = {p.stem: p.resolve() for p in (source / OPENFACE_DIR).glob("*.csv")}
    livelink = {p.stem: p.resolve() for p in (source / LIVELINK_DIR).glob("*.csv")}
    ids = sorted(set(openface) | set(livelink))
    # A file without its partner is a pair with a missing file: reported per pair.
    return [
        PairSource(
            id=name,
            openface=openface.get(name, source / OPENFACE_DIR / f"{name}.csv"),
            livelink=livelink.get(name, source / LIVELINK_DIR / f"{name}.csv"),
        )
        for name in ids
    ]
