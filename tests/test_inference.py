"""model/inference.py: the decoding step (float32 and int8) against the training modules."""

from __future__ import annotations

import pytest
import torch
from conftest import CASES, model_for, padded_batch, restricted_model

from model.attention import unit
from model.inference import Inference


@pytest.mark.parametrize(("kind", "layers", "bidirectional"), CASES)
@torch.inference_mode()
def test_float32_decoding_step_matches_the_training_modules(kind, layers, bidirectional):
    model = model_for(kind, layers, bidirectional)
    src, lengths = padded_batch([6, 4, 2])
    inference = Inference(model)
    memory, state = inference.encode(src, lengths)
    module_memory, module_state = model.encode(src, lengths)
    for a, b in zip(state, module_state):
        torch.testing.assert_close(a, b)
    prev = torch.tensor([5, 7, 9])
    step = inference.step(prev, state, memory)
    expected = model.decoder(prev.unsqueeze(1), module_state, module_memory)
    torch.testing.assert_close(step.logits, expected.logits[:, 0], rtol=1e-5, atol=1e-5)
    for a, b in zip(step.state, expected.state):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    if kind == "none":
        assert step.attention is None and step.scores is None
    else:
        torch.testing.assert_close(step.attention, expected.attention[:, 0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(step.scores, expected.scores[:, 0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("kind", "layers", "bidirectional"), CASES)
@torch.inference_mode()
def test_int8_decoding_stays_close_to_float32(kind, layers, bidirectional):
    """int8 runs its own encoder loop (both directions, padding) and step: close to float32 everywhere."""
    model = model_for(kind, layers, bidirectional)
    src, lengths = padded_batch([6, 4, 2])
    exact, approximate = Inference(model), Inference(model, int8=True)
    assert approximate.int8
    exact_memory, exact_state = exact.encode(src, lengths)
    memory, state = approximate.encode(src, lengths)
    torch.testing.assert_close(memory.values, exact_memory.values, rtol=0.05, atol=0.02)
    assert torch.all(memory.values[1, 4:] == 0) and torch.all(memory.values[2, 2:] == 0)  # padding stays 0
    for a, b in zip(state, exact_state):
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.02)
    prev = torch.tensor([5, 7, 9])
    step, exact_step = approximate.step(prev, state, memory), exact.step(prev, exact_state, exact_memory)
    torch.testing.assert_close(step.logits, exact_step.logits, rtol=0.05, atol=0.05)
    if kind != "none":
        torch.testing.assert_close(step.attention, exact_step.attention, rtol=0.05, atol=0.02)


@torch.inference_mode()
def test_restricted_float32_step_matches_the_training_modules():
    model = restricted_model()
    src, lengths = padded_batch([6, 4, 2])
    inference = Inference(model)
    memory, state = inference.encode(src, lengths)
    module_memory, module_state = model.encode(src, lengths)
    prev = torch.tensor([5, 7, 9])
    step = inference.step(prev, state, memory, top_k=3)
    expected = model.decoder(prev.unsqueeze(1), module_state, module_memory).logits[:, 0]
    torch.testing.assert_close(step.logits, expected, rtol=1e-5, atol=1e-5)
    probs, columns = torch.softmax(expected, -1).topk(3)
    assert torch.equal(step.top_ids, model.decoder.output_pieces[columns])
    torch.testing.assert_close(step.top_probs, probs)


@pytest.mark.parametrize("int8", [False, True])
@pytest.mark.parametrize(("kind", "layers", "bidirectional"), CASES)
@torch.inference_mode()
def test_step_parts_are_the_eager_step_with_every_intermediate(kind, layers, bidirectional, int8):
    """CONTRACT 1: the numbers the model used (int8 ones for an int8 Inference), each consistent with the next."""
    model = model_for(kind, layers, bidirectional)
    inference = Inference(model, int8=int8)
    src, lengths = padded_batch([6, 4, 2])
    memory, state = inference.encode(src, lengths)
    prev = torch.tensor([5, 7, 9])
    parts, step = inference.step_parts(prev, state, memory), inference.eager_step(prev, state, memory)
    assert torch.equal(parts.fed, prev) and torch.equal(parts.logits, step.logits)
    assert torch.equal(parts.query, parts.state[0][-1])  # h_t: the top layer's new state
    for a, b in zip(parts.state, step.state):
        assert torch.equal(a, b)
    assert parts.combined.shape == (3, model.config.combine_dim)
    if kind == "none":
        assert parts.similarity is parts.temperature is parts.scores is parts.attention is parts.context is None
        return
    assert torch.equal(parts.attention, step.attention) and torch.equal(parts.scores, step.scores)
    torch.testing.assert_close(parts.attention.sum(-1), torch.ones(3))
    assert torch.all(parts.attention[1, 4:] == 0) and torch.all(parts.attention[2, 2:] == 0)
    torch.testing.assert_close(parts.context, torch.bmm(parts.attention.unsqueeze(1), memory.values)[:, 0])
    if kind == "cosine":
        assert parts.temperature == pytest.approx(float(model.decoder.attention.score_function.temperature))
        keys = model.decoder.attention.project_keys(memory.values)  # unit length, before the temperature
        cosine = torch.bmm(unit(parts.query).unsqueeze(1), keys.transpose(1, 2))[:, 0]
        torch.testing.assert_close(parts.similarity, cosine, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(parts.similarity * parts.temperature, parts.scores, rtol=1e-5, atol=1e-5)
        assert parts.similarity.abs().max() <= 1
    else:
        assert parts.similarity is None and parts.temperature is None
