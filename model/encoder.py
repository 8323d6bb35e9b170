"""Encoder: embedding -> (bi)LSTM over the English pieces, plus the bridge to the decoder."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .config import ModelConfig

State = tuple[Tensor, Tensor]  # LSTM (h, c), each (layers, B, H)


class Encoder(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.src_vocab_size, config.embed_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.encoder_hidden,
            num_layers=config.encoder_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
            dropout=config.dropout if config.encoder_layers > 1 else 0.0,
        )
        # The bridge: the decoder starts from a learned map of the encoder's final
        # state (both directions concatenated), not from zeros.
        final_dim = config.encoder_output_dim
        self.bridge_h = nn.Linear(final_dim, config.decoder_hidden * config.decoder_layers)
        self.bridge_c = nn.Linear(final_dim, config.decoder_hidden * config.decoder_layers)
        self.decoder_layers = config.decoder_layers
        self.decoder_hidden = config.decoder_hidden

    def forward(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, State]:
        """src (B, S) ids, lengths (B,) on CPU -> outputs (B, S, E), decoder initial state."""
        outputs, (h_n, c_n) = self.read(src, lengths)
        return outputs, (self.bridge(self.bridge_h, h_n), self.bridge(self.bridge_c, c_n))

    def read(self, src: Tensor, lengths: Tensor, lstm: Callable | None = None) -> tuple[Tensor, State]:
        """src (B, S), lengths (B,) -> outputs (B, S, E) and the LSTM's final (h, c), (layers * directions, B, H).

        ``lstm`` replaces ``self.lstm`` with a copy called the same way (decoding passes its int8 one).
        """
        lstm = lstm or self.lstm
        embedded = self.dropout(self.embedding(src))
        lengths = lengths.cpu()
        if bool((lengths == src.size(1)).all()):
            # no padding (one sentence, as the app sends): packing would only add sorting and copying
            outputs, (h_n, c_n) = lstm(embedded)
        else:
            packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
            packed_out, (h_n, c_n) = lstm(packed)
            outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=src.size(1))
        return self.dropout(outputs), (h_n, c_n)

    def bridge(self, layer: Callable[[Tensor], Tensor], final: Tensor) -> Tensor:
        """final (layers * directions, B, H_enc) -> decoder state (layers, B, H_dec); ``layer`` is bridge_h or _c."""
        # take the top layer's directions
        directions = 2 if self.lstm.bidirectional else 1
        top = final[-directions:].transpose(0, 1).reshape(final.size(1), -1)  # (B, directions * H_enc)
        bridged = torch.tanh(layer(top))  # (B, layers * H_dec)
        return bridged.view(-1, self.decoder_layers, self.decoder_hidden).transpose(0, 1).contiguous()
