"""model/encoder.py: reading with and without padding, and the bridge to the decoder."""

from __future__ import annotations

import torch
from conftest import SMALL, padded_batch

from model.config import ModelConfig
from model.encoder import Encoder


@torch.inference_mode()
def test_a_sentence_reads_the_same_alone_and_padded_in_a_batch():
    """Alone, a sentence is not packed (no padding); in a batch it is: the numbers must not depend on it."""
    torch.manual_seed(0)
    encoder = Encoder(ModelConfig(**SMALL, encoder_layers=2, decoder_layers=2)).eval()
    src, lengths = padded_batch([4, 7, 2])
    outputs, (h, c) = encoder(src, lengths)
    assert outputs.shape == (3, 7, 2 * SMALL["encoder_hidden"])
    assert h.shape == c.shape == (2, 3, SMALL["decoder_hidden"])
    assert torch.all(outputs[0, 4:] == 0)  # padding positions stay zero
    alone, (h_alone, c_alone) = encoder(src[:1, :4], lengths[:1])
    torch.testing.assert_close(alone, outputs[:1, :4], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h_alone, h[:, :1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(c_alone, c[:, :1], rtol=1e-5, atol=1e-6)
