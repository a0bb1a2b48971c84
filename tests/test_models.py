"""Contract tests over the whole architecture registry, and reference equivalence."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
import torch
from reference_seq2seq import load_from, reference_for

from au2bs.constants import BLENDSHAPE_NAMES, LIVELINK_NAMES, NUM_AUS, NUM_BLENDSHAPES
from au2bs.errors import InputError
from au2bs.models import (
    ARCHITECTURES,
    ModelConfig,
    ModelOutput,
    UnknownArchitectureError,
    build_loss,
    build_model,
    get_architecture,
    sequence_mask,
)
from au2bs.models.attention_recurrence import decode_with_attention

NAMES = list(ARCHITECTURES)
LENGTHS = torch.tensor([11, 4, 8])  # unequal on purpose, not sorted
STEPS = 11
# Those with a step-by-step reference (chosen by the module they build) and those with 0.8's gate.
REFERENCED = [name for name in NAMES if reference_for(build_model(name, seed=0)) is not None]
GATED = [name for name in NAMES if ARCHITECTURES[name].loss.activation]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors gain nothing from threads, and a busy second core stalls them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_config(name: str) -> ModelConfig:
    """The architecture's defaults, narrowed so the tests stay fast."""
    return replace(ARCHITECTURES[name].defaults, hidden_size=8)


def batch(
    lengths: torch.Tensor = LENGTHS, steps: int = STEPS, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random AUs (B, T, 17) zero-padded after each length, and (B, T, 61) targets."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(len(lengths), steps, NUM_AUS, generator=generator)
    x = x * sequence_mask(lengths, steps).unsqueeze(-1)
    y = torch.rand(len(lengths), steps, len(LIVELINK_NAMES), generator=generator)
    return x, y


def predict(model: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(x, lengths).prediction


# --- the registry -------------------------------------------------------------------------


def test_registry_lists_every_version_in_research_order() -> None:
    assert all(name == spec.name for name, spec in ARCHITECTURES.items())
    versions = [spec.version for spec in ARCHITECTURES.values()]
    numbered = [float(version) for version in versions if version is not None]
    assert numbered == sorted(set(numbered)), f"versions out of order or repeated: {versions}"
    assert versions[len(numbered) :] == [None] * (len(versions) - len(numbered)), "baselines come last"
    for spec in ARCHITECTURES.values():
        assert spec.version is None or spec.name == f"grunet{spec.version}", spec.name


@pytest.mark.parametrize("name", NAMES)
def test_registry_declares_the_research_settings(name: str) -> None:
    spec = ARCHITECTURES[name]
    # The research's two targets: all 61 Live Link Face channels, or the 52 blendshapes.
    assert spec.output_names in (LIVELINK_NAMES, BLENDSHAPE_NAMES)
    # Every length, or the research's MAX_LENGTH subset; the listing says which.
    assert spec.training.max_frames in (None, 500)
    assert ("trained on < 500 frames" in spec.summary) == (spec.training.max_frames == 500)
    assert spec.training.batch_size == 4 and spec.training.learning_rate == 1e-3
    assert spec.defaults.hidden_size == 128 and spec.defaults.negrelu_weight == 1.0
    # The NegReLU penalty is there exactly where no final ReLU keeps outputs >= 0.
    assert spec.loss.negrelu == (not spec.final_relu)


def test_unknown_name_lists_the_registered_names() -> None:
    with pytest.raises(UnknownArchitectureError) as error:
        get_architecture("grunet9")
    assert str(error.value) == f"unknown architecture 'grunet9'; registered: {', '.join(NAMES)}"
    assert isinstance(error.value, KeyError) and isinstance(error.value, InputError)
    with pytest.raises(KeyError, match=re.escape(", ".join(NAMES))):
        build_model("transformer")


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_shapes_are_refused(name: str) -> None:
    model = build_model(name, small_config(name))
    with pytest.raises(ValueError, match="17"):
        model(torch.rand(2, 5, 16), torch.tensor([5, 5]))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.rand(2, 5, NUM_AUS), torch.tensor([5, 5, 5]))


@pytest.mark.parametrize("name", NAMES)
def test_seeded_build_is_reproducible_and_leaves_the_global_rng_alone(name: str) -> None:
    state = torch.random.get_rng_state()
    first = build_model(name, seed=7).state_dict()
    second = build_model(name, seed=7).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_research_initialisation_is_normal_with_std_001() -> None:
    model = build_model("grunet0.3", seed=0)  # the defaults: hidden 128, init_std 0.01
    values = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert values.numel() > 60_000
    assert abs(values.std().item() - 0.01) < 5e-4 and abs(values.mean().item()) < 5e-4
    default = build_model("grunet0.3", replace(ModelConfig(), init_std=None), seed=0)
    assert default.encoder.gru.weight_hh_l0.abs().max() > 0.05  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))


# --- the contract, for every architecture -------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_forward_shapes_and_padding(name: str) -> None:
    spec = ARCHITECTURES[name]
    model = build_model(name, small_config(name), seed=0)
    x, _ = batch()
    out = model(x, LENGTHS)
    assert isinstance(out, ModelOutput)
    assert (out.activation_logits is not None) == spec.loss.activation  # only a gated model has logits
    assert out.prediction.shape == (3, STEPS, spec.channels)
    assert out.prediction.dtype == torch.float32 and torch.isfinite(out.prediction).all()

    batched = predict(model, x, LENGTHS)
    padded_more = predict(model, torch.nn.functional.pad(x, (0, 0, 0, 6)), LENGTHS)
    alone = [predict(model, x[i : i + 1, :n], LENGTHS[i : i + 1])[0] for i, n in enumerate(LENGTHS.tolist())]
    for i, n in enumerate(LENGTHS.tolist()):
        if spec.padding_invariant:
            torch.testing.assert_close(batched[i, :n], alone[i], atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(padded_more[i, :n], alone[i], atol=1e-6, rtol=1e-5)
    if not spec.padding_invariant:  # the flag is not just missing: padding does reach the outputs
        assert any(not torch.allclose(padded_more[i, :n], alone[i]) for i, n in enumerate(LENGTHS.tolist()))
    # Every architecture is exact on a sequence that fills its batch.
    torch.testing.assert_close(batched[0], alone[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_causal_flag_holds(name: str) -> None:
    model = build_model(name, replace(small_config(name), init_std=None), seed=0)
    x, _ = batch()
    changed = x.clone()
    changed[:, 6:] = torch.rand_like(changed[:, 6:])
    changed = changed * sequence_mask(LENGTHS, STEPS).unsqueeze(-1)
    before, after = predict(model, x, LENGTHS), predict(model, changed, LENGTHS)
    if ARCHITECTURES[name].causal:
        torch.testing.assert_close(before[:, :6], after[:, :6], atol=0, rtol=0)
    else:  # sees the whole utterance: early frames react to later ones
        assert not torch.allclose(before[0, :6], after[0, :6], atol=1e-7, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_final_relu_flag_holds_and_spares_the_rotation_channels(name: str) -> None:
    model = build_model(name, small_config(name), seed=0)
    with torch.no_grad():
        model.head.linear.bias.fill_(-1.0)  # every output near -1 before a final ReLU
    x, _ = batch()
    prediction = predict(model, x, LENGTHS)
    assert (prediction[..., NUM_BLENDSHAPES:] < 0).all()  # signed rotations: never clamped
    if ARCHITECTURES[name].final_relu:
        assert (prediction[..., :NUM_BLENDSHAPES] == 0).all()
    else:
        assert (prediction[..., :NUM_BLENDSHAPES] < 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_finite_and_ignores_padding(name: str) -> None:
    config = small_config(name)
    model = build_model(name, config, seed=0)
    loss_fn = build_loss(name, config)
    x, y = batch()
    mask = sequence_mask(LENGTHS, STEPS)
    model.eval()
    out = model(x, LENGTHS)
    loss = loss_fn(out, y, mask)
    assert loss.dim() == 0 and torch.isfinite(loss)
    junk = y.clone()
    junk[~mask] = float("nan")
    torch.testing.assert_close(loss_fn(out, junk, mask), loss)
    (grad,) = torch.autograd.grad(loss_fn(out, junk, mask), out.prediction)
    assert torch.isfinite(grad).all() and (grad[~mask] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_one_optimizer_step_changes_the_weights(name: str) -> None:
    config = small_config(name)
    model = build_model(name, config, seed=0)
    loss_fn = build_loss(name, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = batch()
    model.train()
    loss = loss_fn(model(x, LENGTHS), y, sequence_mask(LENGTHS, STEPS))
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert len(changed) >= len(before) // 2, f"only {changed} changed"


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip(name: str) -> None:
    config = small_config(name)
    model = build_model(name, config, seed=0)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = build_model(name, config, seed=1)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    x, _ = batch()
    assert torch.equal(predict(model, x, LENGTHS), predict(restored, x, LENGTHS))


# --- what single architectures promise ----------------------------------------------------


def test_attention_05_equals_06_without_padding() -> None:
    config = small_config("grunet0.5")
    masked = build_model("grunet0.6", config, seed=0)
    unmasked = build_model("grunet0.5", config, seed=0)
    full = torch.tensor([9, 9])
    x, _ = batch(full, 9)
    torch.testing.assert_close(predict(unmasked, x, full), predict(masked, x, full), atol=0, rtol=0)
    x, _ = batch()  # with padding 0.5 attends over it, 0.6 does not
    assert not torch.allclose(predict(unmasked, x, LENGTHS)[1], predict(masked, x, LENGTHS)[1])


@pytest.mark.parametrize("name", GATED)
def test_activation_gate(name: str) -> None:
    model = build_model(name, small_config(name), seed=0)
    x, _ = batch()
    out = model(x, LENGTHS)
    assert out.activation_logits.shape == (3, STEPS, NUM_BLENDSHAPES)
    closed = out.activation_logits <= 0
    assert closed.any() and (~closed).any()
    assert (out.prediction[closed] == 0).all()


# --- the fast decoders (0.4-0.6) equal the step-by-step reference -------------------------


@pytest.mark.parametrize("name", REFERENCED)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_step_by_step_reference(name: str, seed: int) -> None:
    torch.manual_seed(seed)
    hidden = 16
    config = ModelConfig(hidden_size=hidden, dropout=0.0, init_std=None)  # larger weights: a sharper test
    model = build_model(name, config, seed=seed)
    reference = reference_for(model)
    load_from(reference, model)
    lengths = torch.tensor([23, 7, 16, 23, 1])
    x, y = batch(lengths, 23, seed=seed)
    mask = sequence_mask(lengths, 23)

    ours, theirs = model(x, lengths).prediction, reference(x, lengths)
    torch.testing.assert_close(ours[mask], theirs[mask], atol=1e-4, rtol=1e-4)

    loss_fn = build_loss(name, config)
    loss_fn(ModelOutput(ours), y, mask).backward()
    loss_fn(ModelOutput(theirs), y, mask).backward()
    parameters = dict(model.named_parameters())
    for ref_name, ref_parameter in reference.named_parameters():
        ours_grad = parameters[reference.PARAMETER_MAP[ref_name]].grad
        assert ours_grad is not None, ref_name
        torch.testing.assert_close(ours_grad, ref_parameter.grad, atol=1e-4, rtol=1e-4, msg=ref_name)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_recurrence_backward_passes_gradcheck(masked: bool) -> None:
    batch, steps, hidden, attention = 2, 5, 3, 4
    generator = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    padding = torch.tensor([[False] * 5, [False, False, False, True, True]]) if masked else None
    inputs = (
        rand(batch, steps, attention),  # keys
        rand(attention),  # energy_weight
        rand(batch, steps, hidden),  # memory
        rand(batch, steps, 3 * hidden),  # input_x
        rand(batch, hidden),  # h0
        rand(3 * hidden, hidden),  # weight_hh
        rand(3 * hidden),  # bias_hh
        rand(attention, hidden),  # query_weight
        rand(3 * hidden, hidden),  # context_weight
        padding,
    )
    assert torch.autograd.gradcheck(decode_with_attention, inputs)
