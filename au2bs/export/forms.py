"""Export forms: small modules that run a trained model's own weights one frame or one take at a time.

Each wraps a model of `au2bs.models` without copying its weights, and
computes exactly what the model's `forward` computes for one unpadded
sequence (batch 1, every frame valid), in a form ONNX can hold:

- a step module (causal architectures): one frame and the recurrent state
  in, the frame's channels and the new state out, so an engine can run it
  live at 60 fps;
- a sequence module (every architecture): a whole take (1, T, 17) -> (1, T, C),
  with T free.
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.attention_decoder import AttentionSeq2Seq
from au2bs.models.fcnet import FCNet
from au2bs.models.grunet import GRURegressor
from au2bs.models.seq2seq import Seq2Seq


class GRUStep(nn.Module):
    """One frame of a causal GRU regressor (0.1-0.3, 0.7-0.8): the GRU with h0, the head, 0.8's gate."""

    def __init__(self, model: GRURegressor) -> None:
        super().__init__()
        self.model = model

    def forward(self, au: Tensor, state_in: Tensor) -> tuple[Tensor, Tensor]:
        """(1, 17) AUs, (1, H) state -> (1, C) channels, (1, H) state."""
        prediction, state = self.model.continue_from(au.unsqueeze(1), state_in.unsqueeze(0))  # (1, 1, C)
        return prediction.squeeze(1), state.squeeze(0)


class FCNetFrames(nn.Module):
    """The per-frame baseline, no state at all: one frame (1, 17) or a take (1, T, 17) -> its channels."""

    def __init__(self, model: FCNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, au: Tensor) -> Tensor:
        return self.model.head(self.model.body(au))


class GRUSequence(nn.Module):
    """A whole take through a causal GRU regressor."""

    def __init__(self, model: GRURegressor) -> None:
        super().__init__()
        self.model = model

    def forward(self, au: Tensor) -> Tensor:
        """(1, T, 17) -> (1, T, C)."""
        return self.model.continue_from(au, None)[0]


class Seq2SeqSequence(nn.Module):
    """A whole take through 0.4: the encoder's last state is the summary the decoder re-reads."""

    def __init__(self, model: Seq2Seq) -> None:
        super().__init__()
        self.model = model

    def forward(self, au: Tensor) -> Tensor:
        """(1, T, 17) -> (1, T, C)."""
        encoded, _ = self.model.encoder.gru(au)  # (1, T, H)
        summary = encoded[:, -1:].expand(-1, au.shape[1], -1)  # (1, T, H): every frame is valid
        decoded, _ = self.model.decoder.gru(torch.cat([au, summary], dim=-1))  # (1, T, H)
        return self.model.head(torch.cat([au, decoded, summary], dim=-1))  # (1, T, C)


def _attend_and_decode(
    keys: Tensor,
    energy_weight: Tensor,
    memory: Tensor,
    input_x: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor,
    query_weight: Tensor,
    context_weight: Tensor,
) -> tuple[Tensor, Tensor]:
    """The step loop of `attention_recurrence.decode_with_attention` for batch 1 without padding.

    Run scripted (`_scripted_decoder`), so the ONNX exporter writes a Loop
    over a free number of frames instead of unrolling the example's frames.

    Returns:
        states (1, T, H) and contexts (1, T, H).
    """
    hidden = h.shape[1]
    states = []
    contexts = []
    for t in range(keys.shape[1]):
        query = h @ query_weight.t()  # (1, A)
        scores = torch.sigmoid(keys + query.unsqueeze(1)) @ energy_weight  # (1, T)
        alpha = torch.softmax(scores, dim=1)  # (1, T)
        context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)  # (1, H)
        gate_x = input_x[:, t] + context @ context_weight.t()  # (1, 3H)
        gate_h = h @ weight_hh.t() + bias_hh  # (1, 3H)
        r = torch.sigmoid(gate_x[:, :hidden] + gate_h[:, :hidden])
        z = torch.sigmoid(gate_x[:, hidden : 2 * hidden] + gate_h[:, hidden : 2 * hidden])
        n = torch.tanh(gate_x[:, 2 * hidden :] + r * gate_h[:, 2 * hidden :])
        h = n + z * (h - n)
        states.append(h)
        contexts.append(context)
    return torch.stack(states, dim=1), torch.stack(contexts, dim=1)


@functools.cache
def _scripted_decoder():
    # TorchScript is deprecated in PyTorch 2.9+, but it is what lets the exporter keep the loop.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(_attend_and_decode)


class AttentionSequence(nn.Module):
    """A whole take through 0.5 / 0.6; with one unpadded take the two compute the same."""

    def __init__(self, model: AttentionSeq2Seq) -> None:
        super().__init__()
        self.model = model

    def forward(self, au: Tensor) -> Tensor:
        """(1, T, 17) -> (1, T, C)."""
        model = self.model
        memory, _ = model.encoder.gru(au)  # (1, T, H)
        prepared = model.attention.prepare(memory)
        w_input = model.decoder.weight_ih  # (3H, 17 + H)
        input_x = nn.functional.linear(au, w_input[:, :NUM_AUS], model.decoder.bias_ih)  # (1, T, 3H)
        states, context = _scripted_decoder()(
            prepared.keys,
            prepared.energy_weight,
            memory,
            input_x,
            memory[:, -1],
            model.decoder.weight_hh,
            model.decoder.bias_hh,
            prepared.query_weight,
            w_input[:, NUM_AUS:],
        )  # (1, T, H) each
        return model.head(torch.cat([states, context, au], dim=-1))  # (1, T, C)


# Model class -> its step module (causal ones only) and its sequence module.
STEP_FORMS: dict[type[nn.Module], type[nn.Module]] = {GRURegressor: GRUStep, FCNet: FCNetFrames}
SEQUENCE_FORMS: dict[type[nn.Module], type[nn.Module]] = {
    GRURegressor: GRUSequence,
    FCNet: FCNetFrames,
    Seq2Seq: Seq2SeqSequence,
    AttentionSeq2Seq: AttentionSequence,
}


def state_size(model: nn.Module) -> int:
    """H, the width of the step form's state; 0 for a model without one."""
    return model.encoder.gru.hidden_size if isinstance(model, GRURegressor) else 0
