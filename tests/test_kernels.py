"""model/kernels.py: the TorchScript-compiled step, bridge and greedy loop equal the same functions run from Python.

Where TorchScript exists, a kernel that fails to compile fails these tests (it would otherwise only make
decoding slower, silently); they skip only on a torch without TorchScript or without int8 kernels.
"""

from __future__ import annotations

import pytest
import torch
from conftest import CASES, model_for, padded_batch

from model import kernels
from model.inference import Inference
from model.quantize import int8_supported
from model.search import greedy_search

TORCHSCRIPT = hasattr(torch.jit, "script") and int8_supported()
needs_torchscript = pytest.mark.skipif(not TORCHSCRIPT, reason="this torch has no TorchScript or no int8 kernels")


@needs_torchscript
def test_the_kernels_compile():
    assert kernels.compiled() is not None, kernels.fallback_reason()


def test_a_failed_compilation_warns_says_why_and_decodes_the_same(monkeypatch):
    model = model_for("cosine")
    src, lengths = padded_batch([6, 4])
    expected = [h.tokens for h in greedy_search(Inference(model, int8=True), src, lengths, max_len=6)]

    def broken(function):
        raise RuntimeError("no compiler today")

    monkeypatch.setattr(torch.jit, "script", broken)
    kernels.compiled.cache_clear()
    try:
        with pytest.warns(UserWarning, match="could not compile the decoding kernels"):
            assert kernels.compiled() is None
        assert "no compiler today" in kernels.fallback_reason()
        inference = Inference(model, int8=True)
        assert inference.int8 == int8_supported() and inference.compiled_step is None
        assert [h.tokens for h in greedy_search(inference, src, lengths, max_len=6)] == expected
    finally:
        monkeypatch.undo()
        kernels.compiled.cache_clear()


@needs_torchscript
@pytest.mark.parametrize("layers", [1, 2])
@torch.inference_mode()
def test_compiled_step_equals_the_eager_int8_step(layers):
    inference = Inference(model_for("cosine", layers), int8=True)
    assert inference.compiled_step is not None, kernels.fallback_reason()
    memory, state = inference.encode(*padded_batch([6, 4, 2]))
    prev = torch.tensor([5, 7, 9])
    compiled, eager = inference.step(prev, state, memory), inference.eager_step(prev, state, memory)
    for name in ("logits", "attention", "scores"):
        torch.testing.assert_close(getattr(compiled, name), getattr(eager, name))
    for a, b in zip(compiled.state, eager.state):
        torch.testing.assert_close(a, b)


@needs_torchscript
@pytest.mark.parametrize(("kind", "layers", "bidirectional"), CASES)
@torch.inference_mode()
def test_compiled_bridge_equals_the_eager_int8_bridge(kind, layers, bidirectional):
    inference = Inference(model_for(kind, layers, bidirectional), int8=True)
    assert inference.compiled_bridge is not None, kernels.fallback_reason()
    _, (h_n, c_n) = inference.model.encoder.read(*padded_batch([6, 4, 2]), lstm=inference.encoder_lstm)
    compiled = inference._bridge(h_n, c_n)
    inference.compiled_bridge = None
    eager = inference._bridge(h_n, c_n)
    assert compiled[0].shape == (layers, 3, inference.config.decoder_hidden)
    for a, b in zip(compiled, eager):
        torch.testing.assert_close(a, b)


@needs_torchscript
@pytest.mark.parametrize("layers", [1, 2])
def test_compiled_greedy_loop_equals_the_python_loop(layers):
    """Rows leave the batch at different steps (EOS or their own limit); every step's record must match."""
    torch.manual_seed(5)
    inference = Inference(model_for("cosine", layers), int8=True)
    assert inference.compiled_greedy is not None, kernels.fallback_reason()
    src, lengths = padded_batch([7, 2, 5, 3])
    limits = torch.tensor([9, 3, 1, 6])
    batches = [(src, lengths, limits)]  # and each sentence alone: the loop has its own stop test for one
    batches += [(src[row : row + 1, : lengths[row]], lengths[row : row + 1], limits[row : row + 1]) for row in range(4)]
    loop = inference.compiled_greedy
    for batch in batches:
        inference.compiled_greedy = loop
        compiled = greedy_search(inference, *batch)
        inference.compiled_greedy = None  # the same object, now stepping from Python
        stepped = greedy_search(inference, *batch)
        assert [len(h.tokens) for h in compiled] == [min(9, int(limit)) for limit in batch[2]]  # no EOS: limits
        for a, b in zip(compiled, stepped):
            assert a.tokens == b.tokens
            for name in ("attention", "scores", "top_ids", "top_probs"):
                torch.testing.assert_close(getattr(a, name), getattr(b, name))
