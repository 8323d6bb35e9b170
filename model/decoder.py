"""Decoder: an LSTM with its own weights that writes Spanish pieces, attending at every step.

Per output step t (the founding document's recipe):
  h_t      = LSTM(embedding(previous token), state)
  attention = softmax(score(h_t, encoder outputs))        (masked on padding)
  context  = attention @ encoder outputs
  combined = tanh(W [h_t; context])                         (the no-attention baseline: tanh(W h_t))
  logits   = fully connected layer(combined)                -> next token

With ``ModelConfig.output_pieces`` set, the fully connected layer scores only
the pieces that occur in the training targets (their ids are the buffer
``output_pieces``): logits column j is piece output_pieces[j].

The context does not re-enter the LSTM (no input feeding): every step's LSTM
input is then known under teacher forcing, so training runs the whole target
sequence through one cuDNN/oneDNN LSTM call instead of a Python loop. Measured
in the README (training tokens/s with and without).

This module is the training form. Decoding, one token at a time, runs the same
maths as kernels.decoder_step, with the weights laid out for it by model/inference.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import Attention
from .config import ModelConfig
from .encoder import State


@dataclass
class Memory:
    """What the decoder attends to, computed once per sentence.

    values (B, S, E) encoder outputs; keys (B, S, K) projected keys; mask (B, S) bool.
    """

    values: Tensor
    keys: Tensor
    mask: Tensor

    def index_select(self, index: Tensor) -> Memory:
        return Memory(self.values[index], self.keys[index], self.mask[index])


@dataclass
class DecoderOutput:
    logits: Tensor  # (B, T, V_out): one column per output piece (Decoder.output_pieces, or every target piece)
    state: State
    attention: Tensor | None  # (B, T, S) softmax weights over the source, None without attention
    scores: Tensor | None  # (B, T, S) the numbers fed to softmax


class Decoder(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.tgt_vocab_size, config.embed_dim, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.decoder_hidden,
            num_layers=config.decoder_layers,
            batch_first=True,
            dropout=config.dropout if config.decoder_layers > 1 else 0.0,
        )
        self.attention = (
            None
            if config.attention == "none"
            else Attention(config.attention, config.decoder_hidden, config.encoder_output_dim)
        )
        combine_in = config.decoder_hidden + (0 if self.attention is None else config.encoder_output_dim)
        self.combine = nn.Linear(combine_in, config.combine_dim)
        self.output = nn.Linear(config.combine_dim, config.tgt_vocab_size)
        if config.combine_dim == config.embed_dim:
            self.output.weight = self.embedding.weight  # tied: fewer parameters, better rare words
        # the piece id of each logits column; None when every target piece is scored. Filled from the weights file.
        pieces = torch.arange(config.output_pieces) if config.output_pieces else None
        self.register_buffer("output_pieces", pieces)

    def output_layer(self, combined: Tensor) -> Tensor:
        """combined (..., combine_dim) -> logits (..., V_out) over the output pieces."""
        if self.output_pieces is None:
            return self.output(combined)
        return F.linear(combined, self.output.weight[self.output_pieces], self.output.bias[self.output_pieces])

    def output_columns(self, pieces: Tensor, ignore: int = -100) -> Tensor:
        """Target piece ids (any shape) -> their logits columns; padding and pieces the layer cannot emit -> ignore."""
        size = self.embedding.num_embeddings
        if self.output_pieces is None:
            columns = torch.arange(size, device=pieces.device)
        else:
            columns = torch.full((size,), ignore, dtype=torch.long, device=pieces.device)
            columns[self.output_pieces] = torch.arange(self.output_pieces.numel(), device=pieces.device)
        columns[self.embedding.padding_idx] = ignore
        return columns[pieces]

    def memory(self, encoder_outputs: Tensor, mask: Tensor) -> Memory:
        keys = encoder_outputs if self.attention is None else self.attention.project_keys(encoder_outputs)
        return Memory(encoder_outputs, keys, mask)

    def forward(self, prev_tokens: Tensor, state: State, memory: Memory) -> DecoderOutput:
        """prev_tokens (B, T): the whole target prefix (teacher forcing). Decoding uses model/inference.py."""
        embedded = self.dropout(self.embedding(prev_tokens))
        hidden, state = self.lstm(embedded, state)
        if self.attention is None:
            attention = scores = None
            combined_in = hidden
        else:
            context, attention, scores = self.attention(hidden, memory.keys, memory.values, memory.mask)
            combined_in = torch.cat([hidden, context], dim=-1)
        combined = self.dropout(torch.tanh(self.combine(combined_in)))
        return DecoderOutput(self.output_layer(combined), state, attention, scores)
