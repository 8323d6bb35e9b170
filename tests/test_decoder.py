"""model/decoder.py: the restricted output layer."""

from __future__ import annotations

import torch
from conftest import padded_batch, restricted_model

from model.inference import Inference
from model.search import beam_search, greedy_search


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
