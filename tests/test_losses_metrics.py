"""Losses and metrics on small hand-computed examples."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from au2bs.constants import BLENDSHAPE_NAMES, LIVELINK_NAMES, NUM_BLENDSHAPES, NUM_LIVELINK
from au2bs.losses import (
    LossRecipe,
    SequenceLoss,
    masked_activation_bce,
    masked_column_sum_mse,
    masked_mse,
    negrelu_penalty,
)
from au2bs.metrics import ACTIVATION_EPS, compute_metrics, flatten_metrics, unpad
from au2bs.models import ModelOutput

MASK = torch.tensor([[True, True, False]])  # (1, 3): the third frame is padding


# --- losses -------------------------------------------------------------------------------


def test_masked_mse_ignores_padding() -> None:
    prediction = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (1, 3, 2)
    target = torch.tensor([[[0.0, 0.0], [1.0, 1.0], [float("nan"), 0.0]]])
    # valid squared errors 1, 4, 4, 9: sum 18 over 2 frames x 2 channels
    assert masked_mse(prediction, target, MASK).item() == pytest.approx(18 / 4)
    assert masked_column_sum_mse(prediction, target, MASK).item() == pytest.approx(18 / 2)


def test_masked_mse_weighs_every_valid_frame_equally() -> None:
    prediction = torch.zeros(2, 3, 1)
    target = torch.tensor([[[1.0], [0.0], [0.0]], [[2.0], [9.0], [9.0]]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    assert masked_mse(prediction, target, mask).item() == pytest.approx((1 + 4) / 4)


def test_negrelu_only_on_blendshape_channels_and_valid_frames() -> None:
    prediction = torch.zeros(1, 3, NUM_LIVELINK)
    prediction[0, 0, 0] = -1.0  # a negative blendshape: penalised
    prediction[0, 1, 5] = 2.0  # positive: free
    prediction[0, 0, NUM_BLENDSHAPES + 1] = -5.0  # a negative rotation: legitimate, free
    prediction[0, 2, 0] = -100.0  # padding: ignored
    assert negrelu_penalty(prediction, MASK).item() == pytest.approx(1.0 / (2 * NUM_BLENDSHAPES))
    assert negrelu_penalty(prediction[..., :NUM_BLENDSHAPES], MASK).item() == pytest.approx(1 / 104)


def test_negrelu_weight_scales_and_zero_turns_it_off() -> None:
    prediction = -torch.ones(1, 3, NUM_LIVELINK)
    target = torch.zeros(1, 3, NUM_LIVELINK)
    output = ModelOutput(prediction)
    mse = masked_mse(prediction, target, MASK).item()  # 1.0
    assert SequenceLoss(NUM_LIVELINK, negrelu_weight=0.0)(output, target, MASK).item() == pytest.approx(mse)
    assert SequenceLoss(NUM_LIVELINK, negrelu_weight=1.0)(output, target, MASK).item() == pytest.approx(
        mse + 1
    )
    assert SequenceLoss(NUM_LIVELINK, negrelu_weight=0.5)(output, target, MASK).item() == pytest.approx(
        mse + 0.5
    )
    # a recipe without the penalty ignores the configured weight
    assert LossRecipe().build(NUM_LIVELINK, 3.0, 1.0).negrelu_weight == 0.0
    assert LossRecipe(negrelu=True).build(NUM_LIVELINK, 3.0, 1.0).negrelu_weight == 3.0


def test_sequence_loss_selects_the_models_channels_from_61_targets() -> None:
    prediction = torch.zeros(1, 3, NUM_BLENDSHAPES)
    target = torch.zeros(1, 3, NUM_LIVELINK)
    target[..., NUM_BLENDSHAPES:] = 7.0  # rotations: not predicted, not scored
    target[0, 0, 0] = 1.0
    loss = SequenceLoss(NUM_BLENDSHAPES)
    assert loss(ModelOutput(prediction), target, MASK).item() == pytest.approx(1 / (2 * NUM_BLENDSHAPES))
    column_sum = SequenceLoss(NUM_BLENDSHAPES, column_sum=True)
    assert column_sum(ModelOutput(prediction), target, MASK).item() == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="channels"):
        SequenceLoss(NUM_LIVELINK)(ModelOutput(prediction), target, MASK)


def test_activation_bce() -> None:
    logits = torch.zeros(1, 3, 2)  # p = 0.5 everywhere: BCE = ln 2 whatever the target
    target = torch.tensor([[[0.0, 1.0], [0.005, 0.5], [float("nan"), 1.0]]])
    assert masked_activation_bce(logits, target, MASK).item() == pytest.approx(math.log(2))
    logits = torch.tensor([[[-20.0, 20.0], [-20.0, 20.0], [20.0, -20.0]]])  # right on valid frames
    assert masked_activation_bce(logits, target, MASK).item() == pytest.approx(0.0, abs=1e-6)
    output = ModelOutput(torch.zeros(1, 3, NUM_BLENDSHAPES), torch.zeros(1, 3, NUM_BLENDSHAPES))
    full = torch.zeros(1, 3, NUM_LIVELINK)
    loss = SequenceLoss(NUM_BLENDSHAPES, activation_weight=2.0)(output, full, MASK)
    assert loss.item() == pytest.approx(2 * math.log(2))
    with pytest.raises(ValueError, match="activation_logits"):
        SequenceLoss(NUM_BLENDSHAPES, activation_weight=1.0)(ModelOutput(output.prediction), full, MASK)


def test_recipe_descriptions() -> None:
    assert LossRecipe().describe() == "masked MSE"
    assert "NegReLU" in LossRecipe(negrelu=True).describe()
    assert LossRecipe(column_sum=True).describe().startswith("masked column-sum MSE")


# --- metrics ------------------------------------------------------------------------------


def blendshapes(frames: int) -> np.ndarray:
    return np.zeros((frames, NUM_BLENDSHAPES))


def test_r2_per_channel_vs_pooled() -> None:
    target, prediction = blendshapes(4), blendshapes(4)
    target[:, 0] = prediction[:, 0] = [0, 1, 0, 1]  # perfect: R2 1
    target[:, 1] = [0, 0, 1, 1]
    prediction[:, 1] = 0.5  # the channel's mean: R2 0
    # the other 50 channels are constant zero: no R2 of their own
    group = compute_metrics([prediction], [target])["blendshapes"]
    assert group["r2_per_channel"] == pytest.approx(0.5)
    assert group["r2_channels"] == 2 and group["r2_constant_channels"] == 50
    n = 4 * NUM_BLENDSHAPES  # flattened: sum y = 4, sum y^2 = 4, residuals 4 x 0.25
    assert group["r2"] == pytest.approx(1 - 1 / (4 - 16 / n))
    assert group["research_r2"] == pytest.approx(group["r2"])  # one utterance: the same
    assert group["mse"] == pytest.approx(1 / n)
    assert group["rmse"] == pytest.approx(math.sqrt(1 / n))
    assert group["mae"] == pytest.approx(2 / n)


def test_research_style_averages_over_utterances() -> None:
    short_pred, short_true = blendshapes(1), blendshapes(1)
    short_pred[0, 0] = 1.0  # one error of 1 in a 1-frame utterance
    long_pred, long_true = blendshapes(3), blendshapes(3)  # no error
    group = compute_metrics([short_pred, long_pred], [short_true, long_true])["blendshapes"]
    assert group["research_mse"] == pytest.approx((1 / NUM_BLENDSHAPES + 0) / 2)
    assert group["mse"] == pytest.approx(1 / (4 * NUM_BLENDSHAPES))
    # research R2: per utterance; both targets are constant here, so none is defined
    assert group["research_r2_utterances"] == 0 and math.isnan(group["research_r2"])


def test_research_r2_is_the_mean_of_per_utterance_r2() -> None:
    first_true, second_true = blendshapes(2), blendshapes(2)
    first_true[:, 0] = [0, 1]
    second_true[:, 0] = [0, 2]
    first_pred, second_pred = first_true.copy(), second_true.copy()
    second_pred[:, 0] = [0, 1]  # residual 1
    n = 2 * NUM_BLENDSHAPES
    second_r2 = 1 - 1 / (4 - 4 / n)  # sum y^2 = 4, (sum y)^2 / n = 4 / n
    group = compute_metrics([first_pred, second_pred], [first_true, second_true])["blendshapes"]
    assert group["research_r2"] == pytest.approx((1 + second_r2) / 2)
    pooled = 1 - 1 / (5 - 9 / (2 * n))  # all frames: sum y^2 = 5, sum y = 3
    assert group["r2"] == pytest.approx(pooled)
    assert group["research_r2_utterances"] == 2


def test_activation_precision_recall() -> None:
    target, prediction = blendshapes(1), blendshapes(1)
    prediction[0, :3] = [0.5, 0.02, 0.005]  # predicted active: channels 0, 1 (0.005 < eps)
    target[0, [0, 2, 3]] = [1.0, 0.5, 0.3]  # active: channels 0, 2, 3
    group = compute_metrics([prediction], [target])["blendshapes"]
    assert ACTIVATION_EPS == 0.01
    assert group["precision"] == pytest.approx(1 / 2)
    assert group["recall"] == pytest.approx(1 / 3)
    assert group["f1"] == pytest.approx(0.4)


def test_precision_recall_compare_prediction_with_target() -> None:
    target, prediction = blendshapes(2), blendshapes(2)
    prediction[:, 0] = 1.0  # always on
    target[0, 0] = 1.0  # on in one frame of two
    group = compute_metrics([prediction], [target])["blendshapes"]
    assert group["precision"] == pytest.approx(0.5) and group["recall"] == pytest.approx(1.0)
    assert compute_metrics([blendshapes(2)], [target])["blendshapes"]["precision"] == 0.0


def test_groups_per_channel_and_layouts() -> None:
    target = np.zeros((3, NUM_LIVELINK))
    target[:, 0] = [0.0, 0.5, 1.0]
    target[:, NUM_BLENDSHAPES] = [-1.0, 0.0, 1.0]  # a signed rotation
    prediction = target.copy()
    prediction[:, NUM_BLENDSHAPES] = 0.0  # wrong only on the rotation
    result = compute_metrics(prediction, target, lengths=[2, 1])
    assert result["frames"] == 3 and result["utterances"] == 2
    assert result["blendshapes"]["mse"] == 0.0
    assert result["all"]["mse"] == pytest.approx(2 / (3 * NUM_LIVELINK))
    assert list(result["per_channel"]["mse"]) == list(LIVELINK_NAMES)
    assert result["per_channel"]["mse"][LIVELINK_NAMES[NUM_BLENDSHAPES]] == pytest.approx(2 / 3)
    assert result["per_channel"]["r2"][LIVELINK_NAMES[NUM_BLENDSHAPES]] == pytest.approx(0.0)
    assert result["per_channel"]["r2"][BLENDSHAPE_NAMES[0]] == pytest.approx(1.0)
    assert result["per_channel"]["r2"][BLENDSHAPE_NAMES[1]] is None  # constant target
    # lists and a concatenation with lengths give the same figures
    assert compute_metrics([prediction[:2], prediction[2:]], [target[:2], target[2:]]) == result
    json.dumps(result, allow_nan=False)
    flat = flatten_metrics(result)
    assert flat["blendshapes/mse"] == 0.0 and not any(key.startswith("per_channel") for key in flat)
    assert all(isinstance(value, float | int) for value in flat.values())


def test_52_channel_models_are_scored_against_61_channel_targets() -> None:
    target = np.random.default_rng(0).random((5, NUM_LIVELINK))
    result = compute_metrics([target[:, :NUM_BLENDSHAPES]], [target])
    assert list(result["per_channel"]["mse"]) == list(BLENDSHAPE_NAMES)
    assert result["all"] == result["blendshapes"] and result["all"]["r2"] == 1.0


def test_unpad_and_bad_input() -> None:
    batch = np.arange(2 * 3 * 1).reshape(2, 3, 1)
    parts = unpad(batch, [3, 1])
    assert [p.shape for p in parts] == [(3, 1), (1, 1)]
    with pytest.raises(ValueError, match="channels"):
        compute_metrics([np.zeros((2, 5))], [np.zeros((2, 5))])
    with pytest.raises(ValueError, match="lengths"):
        compute_metrics(np.zeros((3, NUM_BLENDSHAPES)), np.zeros((3, NUM_BLENDSHAPES)), lengths=[1, 1])


def test_r2_per_channel_leaves_out_channels_that_barely_move():
    rng = np.random.default_rng(0)
    true = np.zeros((1000, NUM_BLENDSHAPES))
    true[:, 0] = rng.uniform(0, 1, 1000)  # a channel that moves
    true[::500, 1] = 0.02  # active in 0.2 % of frames: std 0.0009, under the 0.01 threshold
    pred = true.copy()
    pred[:, 0] += 0.01
    pred[:, 1] = 0.003  # harmless in MSE, an R2 of about -10 on its own
    group = compute_metrics(pred, true)["blendshapes"]
    assert group["r2_channels"] == 1 and group["r2_constant_channels"] == NUM_BLENDSHAPES - 1
    assert group["r2_per_channel"] > 0.99
