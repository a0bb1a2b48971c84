"""Datasets: raw OpenFace + Live Link Face pairs -> split Parquet -> numpy arrays.

`python -m au2bs.data build SOURCE OUT` builds one, `python -m au2bs.data
info DATASET` describes one, `load_dataset` hands one to training.
"""

from au2bs.data.build import build_dataset
from au2bs.data.load import SplitArrays, load_dataset, read_manifest
from au2bs.data.options import AuOptions, BuildOptions, LagMode

__all__ = [
    "AuOptions",
    "BuildOptions",
    "LagMode",
    "SplitArrays",
    "build_dataset",
    "load_dataset",
    "read_manifest",
]
