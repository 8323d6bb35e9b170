"""model/checkpoint.py: saving and loading a model folder."""

from __future__ import annotations

import torch
from conftest import restricted_model


def test_restricted_model_saves_its_piece_ids_exactly(tmp_path):
    """Piece ids above 2,048 do not survive float16, which the other weights are stored in."""
    from model import checkpoint

    model = restricted_model(vocab=5000)
    assert int(model.decoder.output_pieces.max()) > 2048
    checkpoint.save_model(model, tmp_path, "spm.model", "spm.model")
    loaded = checkpoint._load_weights(tmp_path, checkpoint._read_config(tmp_path))
    assert torch.equal(loaded.decoder.output_pieces, model.decoder.output_pieces)
