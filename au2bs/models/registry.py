"""The registry: every architecture name and its spec, in research order.

Adding a version means adding one entry here (and a module if it needs a
new kind of network); the tests and benchmarks read what it declares.

Deviations from the research, for every version (the modules only say how
they compute):

- Losses and metrics skip padded frames (`au2bs.losses`); the research
  counted padding in the losses of 0.1-0.5.
- Parameters start from N(0, init_std), the research's N(0, 0.01) by
  default (`ModelConfig.init_std`; None = PyTorch's init).
- Dropout acts on the features the output Linear reads, the usual place;
  the research's description ("applied to the outputs") is ambiguous
  about it.
- Batches run padded instead of packed: identical valid outputs and final
  states, faster on CPU (see `GRUEncoder`).
- The final ReLU (`final_relu`) spares the 9 signed rotation channels (see
  `OutputHead`).
- 0.4-0.6 have no final ReLU (the seed describes no clamp for them); their
  loss adds the NegReLU penalty instead. That penalty (0.2, 0.4-0.6) covers
  the 52 blendshape channels only (`au2bs.losses.negrelu_penalty`).
- The loss averages over all valid frames of the batch; 0.3 summed
  per-utterance means over the batch, which weighs the frames of short
  utterances more (Adam makes the overall scale irrelevant).
- 0.4's decoder is one `nn.GRU` call instead of the research's GRUCell
  loop, and 0.5 / 0.6 run their step loop faster than the research did;
  both give the same numbers (see `Seq2Seq`, `AttentionSeq2Seq` and
  `tests/reference_seq2seq.py`).
- 0.5 / 0.6: v_a has no bias (it cancels in the softmax; see
  `AdditiveAttention`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from au2bs.constants import BLENDSHAPE_NAMES, LIVELINK_NAMES, NUM_BLENDSHAPES, NUM_LIVELINK
from au2bs.errors import InputError
from au2bs.losses import LossRecipe, SequenceLoss
from au2bs.models.attention_decoder import AttentionSeq2Seq
from au2bs.models.config import ModelConfig, TrainingDefaults
from au2bs.models.fcnet import FCNet
from au2bs.models.grunet import GRURegressor
from au2bs.models.seq2seq import Seq2Seq
from au2bs.models.spec import ArchitectureSpec
from au2bs.search_space import Choice

_MSE = LossRecipe()
_MSE_NEGRELU = LossRecipe(negrelu=True)
# The attention decoder steps through every frame: at 256 units a CPU
# trial takes minutes per epoch for little gain, so its search stops at 128.
_ATTENTION_SIZES = {"hidden_size": Choice((32, 64, 128))}
_WITH_NEGRELU = ("hidden_size", "dropout", "negrelu_weight")
# 0.1 and 0.2 were trained only on utterances shorter than 500 frames.
_SHORT_ONLY = TrainingDefaults(max_frames=500)
# 0.7 on: "0.3 with no dropout".
_NO_DROPOUT = replace(ModelConfig(), dropout=0.0)


# Named builders (not lambdas), so a spec pickles by reference.
def _gru_relu_61(c: ModelConfig) -> nn.Module:
    return GRURegressor(c.hidden_size, NUM_LIVELINK, c.dropout, clamp=True)


def _gru_linear_61(c: ModelConfig) -> nn.Module:
    return GRURegressor(c.hidden_size, NUM_LIVELINK, c.dropout, clamp=False)


def _seq2seq_61(c: ModelConfig) -> nn.Module:
    return Seq2Seq(c.hidden_size, NUM_LIVELINK, c.dropout)


def _attention_61(c: ModelConfig) -> nn.Module:
    return AttentionSeq2Seq(c.hidden_size, NUM_LIVELINK, c.dropout, mask_padding=False)


def _masked_attention_61(c: ModelConfig) -> nn.Module:
    return AttentionSeq2Seq(c.hidden_size, NUM_LIVELINK, c.dropout, mask_padding=True)


def _gru_relu_52(c: ModelConfig) -> nn.Module:
    return GRURegressor(c.hidden_size, NUM_BLENDSHAPES, c.dropout, clamp=True)


def _gated_gru_52(c: ModelConfig) -> nn.Module:
    return GRURegressor(c.hidden_size, NUM_BLENDSHAPES, c.dropout, clamp=True, gated=True)


def _fcnet_52(c: ModelConfig) -> nn.Module:
    return FCNet(c.hidden_size, NUM_BLENDSHAPES, c.dropout)


def _specs() -> tuple[ArchitectureSpec, ...]:
    return (
        ArchitectureSpec(
            name="grunet0.1",
            version="0.1",
            summary="GRU + Linear, final ReLU, MSE; trained on < 500 frames",
            builder=_gru_relu_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE,
            causal=True,
            final_relu=True,
            training=_SHORT_ONLY,
        ),
        ArchitectureSpec(
            name="grunet0.2",
            version="0.2",
            summary="0.1 without the final ReLU, MSE + NegReLU penalty; trained on < 500 frames",
            builder=_gru_linear_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE_NEGRELU,
            causal=True,
            final_relu=False,
            training=_SHORT_ONLY,
            hyperparameters=_WITH_NEGRELU,
        ),
        ArchitectureSpec(
            name="grunet0.3",
            version="0.3",
            summary="0.1 on batches of any length (packed in the research)",
            builder=_gru_relu_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE,
            causal=True,
            final_relu=True,
        ),
        ArchitectureSpec(
            name="grunet0.4",
            version="0.4",
            summary="seq2seq: decoder GRU reads [x_t ; h_enc], one GRU call",
            builder=_seq2seq_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE_NEGRELU,
            causal=False,
            final_relu=False,
            hyperparameters=_WITH_NEGRELU,
        ),
        ArchitectureSpec(
            name="grunet0.5",
            version="0.5",
            summary="Bahdanau attention decoder, attends over padding too",
            builder=_attention_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE_NEGRELU,
            causal=False,
            final_relu=False,
            padding_invariant=False,
            hyperparameters=_WITH_NEGRELU,
            search_overrides=_ATTENTION_SIZES,
        ),
        ArchitectureSpec(
            name="grunet0.6",
            version="0.6",
            summary="0.5 with padding masked out of the attention",
            builder=_masked_attention_61,
            output_names=LIVELINK_NAMES,
            loss=_MSE_NEGRELU,
            causal=False,
            final_relu=False,
            hyperparameters=_WITH_NEGRELU,
            search_overrides=_ATTENTION_SIZES,
        ),
        ArchitectureSpec(
            name="grunet0.7",
            version="0.7",
            summary="0.3 with no dropout, 52 blendshape outputs",
            builder=_gru_relu_52,
            output_names=BLENDSHAPE_NAMES,
            loss=_MSE,
            causal=True,
            final_relu=True,
            defaults=_NO_DROPOUT,
        ),
        ArchitectureSpec(
            name="grunet0.75",
            version="0.75",
            summary="0.7 with the MSE summed over blendshape columns",
            builder=_gru_relu_52,
            output_names=BLENDSHAPE_NAMES,
            loss=LossRecipe(column_sum=True),
            causal=True,
            final_relu=True,
            defaults=_NO_DROPOUT,
        ),
        ArchitectureSpec(
            name="grunet0.8",
            version="0.8",
            summary="0.7 gated by a sigmoid activation head on the AUs, + BCE",
            builder=_gated_gru_52,
            output_names=BLENDSHAPE_NAMES,
            loss=LossRecipe(activation=True),
            causal=True,
            final_relu=True,
            defaults=_NO_DROPOUT,
            hyperparameters=("hidden_size", "dropout", "activation_weight"),
        ),
        ArchitectureSpec(
            name="fcnet",
            version=None,
            summary="per-frame baseline: three Linear layers, no recurrence",
            builder=_fcnet_52,
            output_names=BLENDSHAPE_NAMES,
            loss=_MSE,
            causal=True,
            final_relu=True,
        ),
    )


ARCHITECTURES: dict[str, ArchitectureSpec] = {spec.name: spec for spec in _specs()}


class UnknownArchitectureError(InputError, KeyError):
    """An architecture name that is not registered; the message lists the registered ones.

    An `InputError` (command lines print it and exit with status 2) and a
    `KeyError` (a failed lookup).
    """


def get_architecture(name: str) -> ArchitectureSpec:
    """The spec registered under `name`; UnknownArchitectureError listing the registered names otherwise."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise UnknownArchitectureError(
            f"unknown architecture {name!r}; registered: {', '.join(ARCHITECTURES)}"
        ) from None


def build_model(name: str, config: ModelConfig | None = None, seed: int | None = None) -> nn.Module:
    """Builds architecture `name` from `config` (its defaults when None).

    Args:
        name: a key of `ARCHITECTURES`.
        config: sizes and weights; the architecture's `defaults` when None.
        seed: seeds the initialisation without touching the global RNG
            state; None draws from the global RNG.
    """
    spec = get_architecture(name)
    if seed is None:
        return spec.build(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return spec.build(config)


def build_loss(name: str, config: ModelConfig | None = None) -> SequenceLoss:
    """The loss of architecture `name`: `loss(output, target (B, T, 61), mask (B, T))`."""
    spec = get_architecture(name)
    return spec.build_loss(config)
