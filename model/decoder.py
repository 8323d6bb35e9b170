"""Decoder: an LSTM with its own weights that writes Spanish pieces, attending at every step.

Per output step t (the founding document's recipe):
  h_t      = LSTM(embedding(previous token), state)
  weights  = softmax(score(h_t, encoder outputs))          (masked on padding)
  context  = weights @ encoder outputs
  combined = tanh(W [h_t; context])                         (the no-attention baseline: tanh(W h_t))
  logits   = fully connected layer(combined)                -> next token

The context does not re-enter the LSTM (no input feeding): every step's LSTM
input is then known under teacher forcing, so training runs the whole target
sequence through one cuDNN/oneDNN LSTM call instead of a Python loop. Measured
in the README (training tokens/s with and without).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .attention import Attention
from .config import ModelConfig
from .encoder import State
from .quantize import Int8Matrices, int8_supported


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
    logits: Tensor  # (B, T, V)
    state: State
    weights: Tensor | None  # (B, T, S), None without attention
    scores: Tensor | None  # (B, T, S) raw scores before softmax


class Decoder(nn.Module):
    _LSTM_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

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
        self._transposed_cache: dict[int, tuple[int, Tensor]] = {}
        self.int8: Int8Matrices | None = None  # set by use_int8(): decoding steps then read int8 weights

    def memory(self, encoder_outputs: Tensor, mask: Tensor) -> Memory:
        keys = encoder_outputs if self.attention is None else self.attention.project_keys(encoder_outputs)
        return Memory(encoder_outputs, keys, mask)

    def forward(self, prev_tokens: Tensor, state: State, memory: Memory) -> DecoderOutput:
        """prev_tokens (B, T): the whole target prefix in training, one token (T=1) when decoding."""
        stepping = prev_tokens.size(1) == 1 and not torch.is_grad_enabled()
        embedded = self.dropout(self.embedding(prev_tokens))
        hidden, state = self._lstm_step(embedded, state) if stepping else self.lstm(embedded, state)
        if self.attention is None:
            weights = scores = None
            combined_in = hidden
        else:
            context, weights, scores = self.attention(hidden, memory.keys, memory.values, memory.mask)
            combined_in = torch.cat([hidden, context], dim=-1)
        if stepping:
            combined = torch.tanh(self._linear_step(self.combine, combined_in[:, 0]))
            return DecoderOutput(self._linear_step(self.output, combined).unsqueeze(1), state, weights, scores)
        combined = self.dropout(torch.tanh(self.combine(combined_in)))
        return DecoderOutput(self.output(combined), state, weights, scores)

    # Decoding runs one token at a time: a (B, in) x (in, out) product per layer,
    # bound by reading the weights. MKL reads a weight stored (in, out) 3-4x faster
    # than the (out, in) layout nn.Linear keeps, so decoding uses transposed copies,
    # made once and remade only when the weights change (checked by version counter).

    def _transposed(self, weight: Tensor) -> Tensor:
        key = id(weight)
        cached = self._transposed_cache.get(key)
        if cached is None or cached[0] != weight._version:
            cached = (weight._version, weight.detach().t().contiguous())
            self._transposed_cache[key] = cached
        return cached[1]

    def _step_matrices(self) -> list[Tensor]:
        return [self.combine.weight, self.output.weight, *(w for w in self.lstm.parameters() if w.dim() == 2)]

    def cache_step_weights(self) -> None:
        """Make the transposed copies now, so concurrent decoders only ever read the cache."""
        for weight in self._step_matrices():
            self._transposed(weight)

    def use_int8(self, enabled: bool = True) -> bool:
        """Decode with int8 copies of the step matrices (see quantize.py); False if this CPU build cannot."""
        self.int8 = Int8Matrices(self._step_matrices()) if enabled and int8_supported() else None
        return self.int8 is not None

    def _project(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """x (B, in) @ weight.T + bias for one decoding step."""
        if self.int8 is not None:
            out = self.int8.matmul(x, weight)
            return out if bias is None else out + bias
        if bias is None:
            return torch.mm(x, self._transposed(weight))
        return torch.addmm(bias, x, self._transposed(weight))

    def _linear_step(self, layer: nn.Linear, x: Tensor) -> Tensor:
        return self._project(x, layer.weight, layer.bias)

    def _lstm_step(self, embedded: Tensor, state: State) -> tuple[Tensor, State]:
        """One LSTM step written out: (B, 1, E) -> (B, 1, H).

        Same weights and maths as ``self.lstm``, but a single decoding step through
        the oneDNN RNN kernel costs ~4 ms of set-up on CPU; two matrix products cost ~0.2 ms.
        """
        h_all, c_all = state
        x = embedded[:, 0]
        new_h, new_c = [], []
        for layer in range(self.lstm.num_layers):
            w_ih, w_hh, b_ih, b_hh = (getattr(self.lstm, f"{name}_l{layer}") for name in self._LSTM_WEIGHTS)
            gates = self._project(x, w_ih, b_ih + b_hh) + self._project(h_all[layer], w_hh, None)
            i, f, g, o = gates.chunk(4, dim=1)  # PyTorch's gate order
            c = torch.sigmoid(f) * c_all[layer] + torch.sigmoid(i) * torch.tanh(g)
            x = torch.sigmoid(o) * torch.tanh(c)
            new_h.append(x)
            new_c.append(c)
        return x.unsqueeze(1), (torch.stack(new_h), torch.stack(new_c))
