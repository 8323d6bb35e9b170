"""int8 copies of weight matrices, for fast one-token decoding on CPU.

Decoding one token multiplies a single row vector by each weight matrix, so a
step costs the time to read ~15 MB of float32 weights: it is bound by memory,
not arithmetic. Stored as int8 with one scale per output row (per-channel,
symmetric), the same matrices are 4x smaller. When they were introduced for the
decoder steps (bench/speed.py, README): greedy latency 2.5x lower, beam-5 3.5x
lower, batched throughput 1.9x higher, for -0.1 BLEU on the held-out test split.
Only decoding (model/inference.py) uses them: the decoder steps, the encoder's
recurrence and the bridge; training stays float32.

The input rows are quantized on the fly with one scale for the whole (B, in)
input, so in rare near-ties a sentence can decode differently inside a batch
than alone; float32 decoding (``int8=False``) is exactly batch-independent.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor


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
