"""int8 copies of weight matrices, for fast one-token decoding on CPU.

Decoding one token multiplies a single row vector by each weight matrix, so a
step costs the time to read every weight matrix once: it is bound by memory,
not arithmetic. Stored as int8 with one scale per output row (per-channel,
symmetric), the same matrices are 4x smaller: decoding is several times faster
for about 0.1 BLEU (docs/performance.md has the figures). Only decoding
(model/inference.py) uses them: the decoder steps, the encoder LSTM
(``Int8LSTM``) and the bridge; training stays float32.

The input rows are quantized on the fly with one scale for the whole (B, in)
input, so in rare near-ties a sentence can decode differently inside a batch
than alone; float32 decoding (``int8=False``) is exactly batch-independent.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

LSTM_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # nn.LSTM's names, suffixed _l0, _l1, ...


def pack_int8(weight: Tensor, bias: Tensor | None):
    """(out, in) float weight and (out,) bias -> fbgemm's packed int8 form with per-output-row scales."""
    w = weight.detach().float().cpu()
    scales = (w.abs().amax(dim=1) / 127).clamp(min=1e-12).double()
    zero_points = torch.zeros(w.size(0), dtype=torch.long)
    with warnings.catch_warnings():  # torch 2.13 points eager-mode users to torchao; these kernels are what we need
        warnings.simplefilter("ignore")
        quantized = torch.quantize_per_channel(w, scales, zero_points, 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(quantized, None if bias is None else bias.detach().float())


def int8_linear(x: Tensor, packed) -> Tensor:
    """x (B, in) float -> x @ W.T + b (B, out) float; x is quantized on the fly (dynamic quantization)."""
    return torch.ops.quantized.linear_dynamic(x, packed)


def int8_supported() -> bool:
    return bool(torch.backends.quantized.supported_engines) and hasattr(torch.ops.quantized, "linear_dynamic")


class Int8LSTM:
    """An ``nn.LSTM`` (batch_first) for inference with int8 weights, called like the module it copies.

    Runs ``torch.quantized_lstm``: the loop over source tokens in C++, one fbgemm
    product per token and direction. Against the same recurrence written out in
    TorchScript, a sentence encodes in about half the time; the weights
    are packed by ``pack_int8`` (per row), the activations at full 8-bit range,
    so its rounding matches the decoder's int8 products.
    """

    def __init__(self, lstm: nn.LSTM):
        if not lstm.batch_first or lstm.proj_size or not lstm.bias:
            raise ValueError("Int8LSTM copies batch_first LSTMs with biases and no projection")
        self.layers, self.bidirectional, self.hidden = lstm.num_layers, lstm.bidirectional, lstm.hidden_size
        suffixes = ["", "_reverse"] if lstm.bidirectional else [""]
        self.params = []
        for layer in range(lstm.num_layers):
            for suffix in suffixes:
                w_ih, w_hh, b_ih, b_hh = (
                    getattr(lstm, f"{name}_l{layer}{suffix}").detach().float() for name in LSTM_WEIGHTS
                )
                packed_ih, packed_hh = pack_int8(w_ih, b_ih), pack_int8(w_hh, b_hh)
                self.params.append(
                    torch.ops.quantized.make_quantized_cell_params_dynamic(packed_ih, packed_hh, b_ih, b_hh, False)
                )

    def _zeros(self, batch: int, like: Tensor) -> tuple[Tensor, Tensor]:
        zeros = like.new_zeros(self.layers * (2 if self.bidirectional else 1), batch, self.hidden)
        return zeros, zeros

    def __call__(self, x: Tensor | PackedSequence) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        """x (B, S, in) or a PackedSequence -> outputs of the same kind, final (h, c) (layers * directions, B, H)."""
        common = (self.params, True, self.layers, 0.0, False, self.bidirectional)
        if isinstance(x, PackedSequence):
            batch_sizes, unsorted = x.batch_sizes, x.unsorted_indices
            hx = self._zeros(int(batch_sizes[0]), x.data)
            data, h, c = torch.quantized_lstm(x.data, batch_sizes, hx, *common, dtype=torch.qint8, use_dynamic=True)
            if unsorted is not None:  # as nn.LSTM does: final states back in the caller's batch order
                h, c = h.index_select(1, unsorted), c.index_select(1, unsorted)
            return PackedSequence(data, batch_sizes, x.sorted_indices, unsorted), (h, c)
        hx = self._zeros(x.size(0), x)
        out, h, c = torch.quantized_lstm(x, hx, *common, True, dtype=torch.qint8, use_dynamic=True)
        return out, (h, c)
