"""The network itself: attention, shapes, learning, search."""

from __future__ import annotations

import pytest
import torch

from model import kernels
from model.attention import SCORES, Attention
from model.config import ModelConfig
from model.inference import Inference
from model.search import beam_search, greedy_search
from model.seq2seq import Seq2Seq

SMALL = dict(src_vocab_size=50, tgt_vocab_size=40, embed_dim=16, encoder_hidden=12, decoder_hidden=24, combine_dim=16)


def padded_batch(lengths: list[int], vocab: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for row, n in enumerate(lengths):
        src[row, :n] = torch.randint(4, vocab, (n,))
        src[row, n - 1] = 3  # EOS
    return src, torch.tensor(lengths)


@pytest.mark.parametrize("kind", sorted(SCORES))
def test_attention_rows_sum_to_one_and_padding_gets_zero(kind):
    torch.manual_seed(0)
    attention = Attention(kind, query_dim=24, key_dim=10)
    values = torch.randn(3, 7, 10)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3, [True] + [False] * 6])
    query = torch.randn(3, 5, 24)
    context, weights, scores = attention(query, attention.project_keys(values), values, mask)
    assert context.shape == (3, 5, 10)
    assert weights.shape == scores.shape == (3, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5))
    assert torch.all(weights[1, :, 4:] == 0) and torch.all(weights[2, :, 1:] == 0)
    torch.testing.assert_close(context[2], values[2, :1].expand(5, -1))  # one real token: all weight on it


def test_cosine_scores_are_scaled_cosines():
    attention = Attention("cosine", query_dim=8, key_dim=8)
    keys_in = torch.randn(1, 4, 8)
    query = torch.randn(1, 1, 8)
    _, _, scores = attention(query, attention.project_keys(keys_in), keys_in, torch.ones(1, 4, dtype=torch.bool))
    cosine = torch.nn.functional.cosine_similarity(query[0], keys_in[0], dim=-1)
    torch.testing.assert_close(scores[0, 0], 10.0 * cosine, rtol=1e-4, atol=1e-4)


def test_config_rejects_unknown_keys_and_bad_attention():
    with pytest.raises(ValueError, match="unknown ModelConfig keys: hiden"):
        ModelConfig.from_dict({"hiden": 3})
    with pytest.raises(ValueError, match="attention must be one of"):
        ModelConfig(attention="magic")
    with pytest.raises(ValueError, match="shared_embeddings needs one vocabulary"):
        ModelConfig(src_vocab_size=100, tgt_vocab_size=120, shared_embeddings=True)


@pytest.mark.parametrize("kind", ["cosine", "dot", "general", "additive", "none"])
def test_forward_shapes(kind):
    model = Seq2Seq(ModelConfig(**SMALL, attention=kind))
    src, lengths = padded_batch([5, 3, 7])
    prev = torch.randint(4, 40, (3, 6))
    out = model(src, lengths, prev)
    assert out.logits.shape == (3, 6, 40)
    if kind == "none":
        assert out.weights is None and out.scores is None
    else:
        assert out.weights.shape == out.scores.shape == (3, 6, 7)
        assert torch.all(out.weights[1, :, 3:] == 0)


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(**SMALL, dropout=0.0))
    src, lengths = padded_batch([6, 4, 5, 6])
    gold = torch.randint(4, 40, (4, 5))
    gold[:, -1] = 3
    prev = torch.cat([torch.full((4, 1), 2), gold[:, :-1]], 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(model(src, lengths, prev).logits.reshape(-1, 40), gold.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    model.eval()
    hypotheses = greedy_search(Inference(model), src, lengths, max_len=10)
    assert [h.tokens for h in hypotheses] == gold.tolist()


@pytest.mark.parametrize("kind", ["cosine", "none"])
def test_beam_one_equals_greedy(kind):
    torch.manual_seed(1)
    model = Seq2Seq(ModelConfig(**SMALL, attention=kind)).eval()
    for length in (3, 6, 9):
        src, lengths = padded_batch([length])
        greedy = greedy_search(Inference(model), src, lengths, max_len=12)[0]
        beam = beam_search(Inference(model), src, lengths, beam_size=1, max_len=12)
        assert beam.tokens == greedy.tokens
        if kind != "none":
            torch.testing.assert_close(beam.weights, greedy.weights)


def test_beam_search_returns_attention_of_the_chosen_hypothesis():
    torch.manual_seed(2)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    src, lengths = padded_batch([6])
    hypothesis = beam_search(Inference(model), src, lengths, beam_size=4, max_len=9)
    steps = len(hypothesis.tokens)
    assert hypothesis.weights.shape == (steps, 6) and hypothesis.scores.shape == (steps, 6)
    assert hypothesis.top_probs.shape == (steps, 5)
    torch.testing.assert_close(hypothesis.weights.sum(-1), torch.ones(steps))
    # the recorded history is this hypothesis's own: replaying its tokens gives the same weights
    prev = torch.tensor([[2, *hypothesis.tokens[:-1]]])
    replay = model(src, lengths, prev)
    torch.testing.assert_close(replay.weights[0], hypothesis.weights, rtol=1e-4, atol=1e-5)


def test_batched_greedy_matches_one_by_one():
    torch.manual_seed(3)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    src, lengths = padded_batch([7, 2, 5])
    together = greedy_search(Inference(model), src, lengths, max_len=8)
    for row in range(3):
        alone = greedy_search(Inference(model), src[row : row + 1, : lengths[row]], lengths[row : row + 1], max_len=8)[
            0
        ]
        assert alone.tokens == together[row].tokens
        torch.testing.assert_close(alone.weights, together[row].weights, rtol=1e-4, atol=1e-5)


def model_for(kind: str, layers: int = 1, bidirectional: bool = True) -> Seq2Seq:
    torch.manual_seed(4)
    config = ModelConfig(
        **SMALL, attention=kind, encoder_layers=layers, decoder_layers=layers, bidirectional=bidirectional
    )
    return Seq2Seq(config).eval()


CASES = [(kind, 1, True) for kind in ("cosine", "dot", "general", "additive", "none")] + [
    ("cosine", 2, True),
    ("cosine", 1, False),
]


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
        assert step.weights is None and step.scores is None
    else:
        torch.testing.assert_close(step.weights, expected.weights[:, 0], rtol=1e-5, atol=1e-6)
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
        torch.testing.assert_close(step.weights, exact_step.weights, rtol=0.05, atol=0.02)


@pytest.mark.skipif(kernels.compiled() is None, reason="this torch has no TorchScript")
@pytest.mark.parametrize("layers", [1, 2])
@torch.inference_mode()
def test_compiled_step_equals_the_eager_int8_step(layers):
    inference = Inference(model_for("cosine", layers), int8=True)
    assert inference.compiled_step is not None
    memory, state = inference.encode(*padded_batch([6, 4, 2]))
    prev = torch.tensor([5, 7, 9])
    compiled, eager = inference.step(prev, state, memory), inference.eager_step(prev, state, memory)
    for name in ("logits", "weights", "scores"):
        torch.testing.assert_close(getattr(compiled, name), getattr(eager, name))
    for a, b in zip(compiled.state, eager.state):
        torch.testing.assert_close(a, b)


@pytest.mark.skipif(kernels.compiled() is None, reason="this torch has no TorchScript")
@pytest.mark.parametrize(("kind", "layers", "bidirectional"), CASES)
@torch.inference_mode()
def test_compiled_bridge_equals_the_eager_int8_bridge(kind, layers, bidirectional):
    inference = Inference(model_for(kind, layers, bidirectional), int8=True)
    assert inference.compiled_bridge is not None
    _, (h_n, c_n) = inference.model.encoder.read(*padded_batch([6, 4, 2]), lstm=inference.encoder_lstm)
    compiled = inference._bridge(h_n, c_n)
    inference.compiled_bridge = None
    eager = inference._bridge(h_n, c_n)
    assert compiled[0].shape == (layers, 3, inference.config.decoder_hidden)
    for a, b in zip(compiled, eager):
        torch.testing.assert_close(a, b)


@pytest.mark.skipif(kernels.compiled() is None, reason="this torch has no TorchScript")
@pytest.mark.parametrize("layers", [1, 2])
def test_compiled_greedy_loop_equals_the_python_loop(layers):
    """Rows leave the batch at different steps (EOS or their own limit); every step's record must match."""
    torch.manual_seed(5)
    inference = Inference(model_for("cosine", layers), int8=True)
    assert inference.compiled_greedy is not None
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
            for name in ("weights", "scores", "top_ids", "top_probs"):
                torch.testing.assert_close(getattr(a, name), getattr(b, name))


def restricted_model(vocab: int = 40, kind: str = "cosine") -> Seq2Seq:
    """A model whose output layer scores a subset of the target pieces (EOS among them), as --seen-output-only."""
    torch.manual_seed(6)
    pieces = torch.cat([torch.tensor([3]), torch.randperm(vocab - 4)[: vocab // 2] + 4]).sort().values
    config = ModelConfig(**{**SMALL, "tgt_vocab_size": vocab}, attention=kind, output_pieces=pieces.numel())
    model = Seq2Seq(config).eval()
    model.decoder.output_pieces.copy_(pieces)
    return model


@torch.inference_mode()
def test_restricted_output_layer_scores_and_emits_only_its_pieces():
    model = restricted_model()
    pieces = model.decoder.output_pieces
    src, lengths = padded_batch([6, 4, 2])
    prev = torch.randint(4, 40, (3, 5))
    logits = model(src, lengths, prev).logits
    assert logits.shape == (3, 5, pieces.numel())
    full = model.decoder.output.weight @ torch.eye(16)  # column j of the logits is piece pieces[j]'s row
    assert torch.equal(model.decoder.output.weight[pieces], full[pieces])
    columns = model.decoder.output_columns(torch.tensor([0, 3, int(pieces[5]), 1]))
    assert columns.tolist() == [-100, 0, 5, -100]  # padding and a piece the layer cannot write are ignored
    for int8 in (False, True):
        inference = Inference(model, int8=int8)
        for hypothesis in greedy_search(inference, src, lengths, max_len=8):
            assert set(hypothesis.tokens) <= set(pieces.tolist())
            assert set(hypothesis.top_ids.flatten().tolist()) <= set(pieces.tolist())
        greedy = greedy_search(inference, src[:1], lengths[:1], max_len=8)[0]
        beam = beam_search(inference, src[:1], lengths[:1], beam_size=1, max_len=8)
        assert beam.tokens == greedy.tokens and torch.equal(beam.top_ids, greedy.top_ids)
        assert set(beam_search(inference, src[:1], lengths[:1], beam_size=3, max_len=8).tokens) <= set(pieces.tolist())


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


def test_restricted_model_saves_its_piece_ids_exactly(tmp_path):
    """Piece ids above 2,048 do not survive float16, which the other weights are stored in."""
    from model import checkpoint

    model = restricted_model(vocab=5000)
    assert int(model.decoder.output_pieces.max()) > 2048
    checkpoint.save_model(model, tmp_path, "spm.model", "spm.model")
    loaded = checkpoint._load_weights(tmp_path, checkpoint._read_config(tmp_path))
    assert torch.equal(loaded.decoder.output_pieces, model.decoder.output_pieces)
