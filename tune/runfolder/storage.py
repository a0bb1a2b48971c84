"""Run files wherever they lie: one path for local folders and URIs (s3://, gs://, file://).

Everything that reads or writes a run folder goes through here, on
`pyarrow.fs`, so a local run and one behind a bucket behave the same.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pyarrow
import pyarrow.fs as pafs
from pyarrow.fs import FileType


def cache_path(kind: str, key: str, name: str) -> Path:
    """Where a local copy of a file behind a URI goes: <au2bs cache>/<kind>/<hash of key>/<name>."""
    from au2bs.data.default import cache_root  # here: it imports the dataset builder

    return cache_root() / kind / hashlib.sha256(key.encode()).hexdigest()[:16] / name


def is_uri(path: str) -> bool:
    return "://" in path


def absolute(path: str) -> str:
    """A local path made absolute (pyarrow wants that); a URI as given, without a trailing slash."""
    return path.rstrip("/") if is_uri(path) else str(Path(path).resolve())


def join(root: str, *names: str) -> str:
    return "/".join([root.rstrip("/"), *names])


def filesystem_of(path: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding `path` and the path inside it. Raises pyarrow's errors for a bad URI."""
    return pafs.FileSystem.from_uri(path) if is_uri(path) else (pafs.LocalFileSystem(), path)


def kind(path: str) -> FileType:
    filesystem, inner = filesystem_of(path)
    return filesystem.get_file_info(inner).type


def modified(path: str) -> float | None:
    """The file's modification time (seconds since the epoch); None when it does not exist."""
    filesystem, inner = filesystem_of(path)
    info = filesystem.get_file_info(inner)
    return None if info.type != FileType.File or info.mtime is None else info.mtime.timestamp()


def is_dir(path: str) -> bool:
    return kind(path) == FileType.Directory


def read_bytes(path: str) -> bytes | None:
    """The file's bytes; None when there is no such file."""
    filesystem, inner = filesystem_of(path)
    if filesystem.get_file_info(inner).type != FileType.File:
        return None
    with filesystem.open_input_stream(inner) as handle:
        return handle.read()


def read_text(path: str) -> str | None:
    data = read_bytes(path)
    return None if data is None else data.decode(errors="replace")


def write_bytes(path: str, data: bytes) -> None:
    """Writes a whole file, creating its folder; a reader never sees half of it.

    Locally the data goes to a temporary name first and is then renamed; an
    object store makes an object visible only once it is complete.
    """
    filesystem, inner = filesystem_of(path)
    filesystem.create_dir(inner.rsplit("/", 1)[0], recursive=True)  # object stores ignore it
    if isinstance(filesystem, pafs.LocalFileSystem):
        partial = f"{inner}.{uuid.uuid4().hex[:8]}.partial"
        with filesystem.open_output_stream(partial) as handle:
            handle.write(data)
        os.replace(partial, inner)
        return
    with filesystem.open_output_stream(inner) as handle:
        handle.write(data)


def names_in(folder: str) -> list[str]:
    """The names of the entries of `folder`; empty when it does not exist."""
    filesystem, inner = filesystem_of(folder)
    entries = filesystem.get_file_info(pafs.FileSelector(inner.rstrip("/"), allow_not_found=True))
    return sorted(entry.base_name for entry in entries)


def copy_file(source: str, target: str) -> None:
    """Copies one file between any two places (a URI to a local path, or back).

    The target appears whole or not at all. OSError on failure.
    """
    source_fs, source_inner = filesystem_of(source)
    target_fs, target_inner = filesystem_of(target)
    if source_fs.get_file_info(source_inner).type != FileType.File:
        raise FileNotFoundError(source)
    local_target = isinstance(target_fs, pafs.LocalFileSystem)
    staging = f"{target_inner}.{uuid.uuid4().hex[:8]}.partial" if local_target else target_inner
    try:
        target_fs.create_dir(target_inner.rsplit("/", 1)[0], recursive=True)
        pafs.copy_files(source_inner, staging, source_filesystem=source_fs, destination_filesystem=target_fs)
        if local_target:
            os.replace(staging, target_inner)
    except pyarrow.ArrowException as error:
        raise OSError(str(error)) from None
    finally:
        if local_target and os.path.exists(staging):
            os.remove(staging)
