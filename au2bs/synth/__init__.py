"""The synthetic corpus: paired OpenFace and Live Link Face recordings with known truth.

The research corpus is private, so the project ships a generator that writes
a raw corpus in the real file formats (`generate_corpus`, or `python -m
au2bs.synth OUT`). Latent muscle drivers move a synthetic face: the
blendshapes are known nonlinear, skin-filtered functions of them plus
AU-less motion; the AU stream is OpenFace's noisy, ~58 fps, lagged view of
the same drivers. corpus.json records each utterance's true lag and the
noise floor (oracle MSE). `simulate` and `aligned` give the same
utterances in memory.

Modules: config (SynthConfig), signals (noise, episodes, skin dynamics),
speakers (voices, speaker traits), speech (scripts, mouth motion), drivers
(muscle activations), face (drivers -> 61 channels), hidden (AU-less
motion), observe (OpenFace's view), utterance (one utterance, in memory),
targets (real takes as targets), corpus (files), stats (realism figures).
"""

from au2bs.synth.config import GENERATOR_VERSION, SynthConfig
from au2bs.synth.corpus import ORACLE_DEFINITION, generate_corpus
from au2bs.synth.stats import blendshape_statistics
from au2bs.synth.utterance import Utterance, aligned, simulate

__all__ = [
    "GENERATOR_VERSION",
    "ORACLE_DEFINITION",
    "SynthConfig",
    "Utterance",
    "aligned",
    "blendshape_statistics",
    "generate_corpus",
    "simulate",
]
