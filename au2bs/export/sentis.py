"""Export forms for Unity Sentis (Unity Inference Engine): the same models, written in plain operators.

Sentis lists ONNX's GRU among the operators it does not import, in every
version of the package (Sentis 1.x, 2.x; Inference Engine 2.2+), and Loop
as well, so neither the GRU-op forms of `au2bs.export.forms` nor 0.5 / 0.6's
looped decoder import there. These forms write the GRU's equations out for
one frame:

    r  = sigmoid(x W_ir + b_ir + h W_hr + b_hr)
    z  = sigmoid(x W_iz + b_iz + h W_hz + b_hz)
    n  = tanh(x W_in + b_in + r * (h W_hn + b_hn))
    h' = n + z * (h - n)                      (= (1 - z) n + z h, PyTorch's update)

with one weight matrix per gate, so the graph needs no Split or Slice; the
head and 0.8's gate follow as MatMul / Add (Max or Relu for the final ReLU,
Greater / Cast / Mul for the gate's hard mask). Sentis reads opsets up to 15
in its 1.x packages (later ones read more), so they are written at 15.

- step (causal GRU regressors and fcnet): one frame and the state in, the
  frame's channels and the new state out, as the ONNX Runtime step form.
- sequence (fcnet only): fcnet keeps no state, so a whole take is the same
  operators on (1, T, 17). A GRU over a free number of frames needs ONNX's
  GRU, Loop or Scan, none of which Sentis imports: step those frame by frame.

The weights are read from the model when a form is built (each gate's slice,
transposed, as a buffer); the forms compute what the model's `forward` does
for one unpadded sequence.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from au2bs.constants import NUM_BLENDSHAPES
from au2bs.models.fcnet import FCNet
from au2bs.models.grunet import GRURegressor
from au2bs.models.heads import OutputHead

SENTIS_OPSET = 15


class PlainHead(nn.Module):
    """`OutputHead` (eval) as MatMul, Add and the final ReLU on the blendshape channels only."""

    def __init__(self, head: OutputHead) -> None:
        super().__init__()
        self.register_buffer("weight", head.linear.weight.detach().t().clone())  # (F, C)
        self.register_buffer("bias", head.linear.bias.detach().clone())  # (C,)
        channels = self.bias.shape[0]
        self.clamp = head.clamp
        self.all_clamped = channels <= NUM_BLENDSHAPES
        # max(out, floor) is the ReLU on the blendshapes and leaves the signed rotations as they are.
        floor = torch.full((channels,), torch.finfo(torch.float32).min)
        floor[:NUM_BLENDSHAPES] = 0.0
        self.register_buffer("floor", floor)

    def forward(self, features: Tensor) -> Tensor:
        """(..., F) -> (..., C)."""
        out = features @ self.weight + self.bias
        if not self.clamp:
            return out
        return torch.relu(out) if self.all_clamped else torch.maximum(out, self.floor)


class PlainLinear(nn.Module):
    """nn.Linear as MatMul + Add (torch would write a 2-D one as Gemm)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.register_buffer("weight", linear.weight.detach().t().clone())  # (in, out)
        self.register_buffer("bias", linear.bias.detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias


class PlainGRUStep(nn.Module):
    """One frame of a causal GRU regressor (0.1-0.3, 0.7-0.8) without the GRU operator."""

    def __init__(self, model: GRURegressor) -> None:
        super().__init__()
        gru = model.encoder.gru
        hidden = gru.hidden_size
        for kind, weight, bias in (
            ("i", gru.weight_ih_l0, gru.bias_ih_l0),
            ("h", gru.weight_hh_l0, gru.bias_hh_l0),
        ):
            for index, gate in enumerate("rzn"):
                rows = slice(index * hidden, (index + 1) * hidden)  # PyTorch stacks the gates r, z, n
                self.register_buffer(f"w_{kind}{gate}", weight[rows].detach().t().clone())  # (in, H)
                self.register_buffer(f"b_{kind}{gate}", bias[rows].detach().clone())  # (H,)
        self.head = PlainHead(model.head)
        self.gate = PlainLinear(model.gate.linear) if model.gate is not None else None

    def forward(self, au: Tensor, state_in: Tensor) -> tuple[Tensor, Tensor]:
        """(1, 17) AUs, (1, H) state -> (1, C) channels, (1, H) state."""
        h = state_in
        r = torch.sigmoid(au @ self.w_ir + self.b_ir + (h @ self.w_hr + self.b_hr))
        z = torch.sigmoid(au @ self.w_iz + self.b_iz + (h @ self.w_hz + self.b_hz))
        n = torch.tanh(au @ self.w_in + self.b_in + r * (h @ self.w_hn + self.b_hn))
        state_out = n + z * (h - n)  # (1, H)
        prediction = self.head(state_out)  # (1, C)
        if self.gate is not None:  # 0.8: closed where the gate's logit <= 0
            prediction = prediction * (self.gate(au) > 0).to(prediction.dtype)
        return prediction, state_out


class PlainFCNet(nn.Module):
    """fcnet without Gemm: a frame (1, 17) or a take (1, T, 17) -> its channels."""

    def __init__(self, model: FCNet) -> None:
        super().__init__()
        first, _, _, second, _ = model.body  # Linear, ReLU, Dropout, Linear, ReLU
        self.first, self.second = PlainLinear(first), PlainLinear(second)
        self.head = PlainHead(model.head)

    def forward(self, au: Tensor) -> Tensor:
        return self.head(torch.relu(self.second(torch.relu(self.first(au)))))


# Model class -> its Sentis step module and its Sentis sequence module.
SENTIS_STEP_FORMS: dict[type[nn.Module], type[nn.Module]] = {GRURegressor: PlainGRUStep, FCNet: PlainFCNet}
SENTIS_SEQUENCE_FORMS: dict[type[nn.Module], type[nn.Module]] = {FCNet: PlainFCNet}
