"""Readers and writers for the file formats users bring and get back."""

from au2bs.formats.livelink import LiveLinkTake, read_livelink, write_livelink
from au2bs.formats.openface import DEFAULT_MIN_CONFIDENCE, OpenFaceTake, read_openface, write_openface

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "LiveLinkTake",
    "OpenFaceTake",
    "read_livelink",
    "read_openface",
    "write_livelink",
    "write_openface",
]
