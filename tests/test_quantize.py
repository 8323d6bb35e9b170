"""model/quantize.py: int8 matrices and the int8 LSTM stay close to their float32 originals."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from model.quantize import Int8LSTM, int8_linear, int8_supported, pack_int8

pytestmark = pytest.mark.skipif(not int8_supported(), reason="this torch has no int8 CPU kernels")


@torch.inference_mode()
def test_int8_linear_is_close_to_the_float_product():
    torch.manual_seed(0)
    weight, bias, x = torch.randn(48, 32), torch.randn(48), torch.randn(3, 32)
    expected = torch.nn.functional.linear(x, weight, bias)
    error = (int8_linear(x, pack_int8(weight, bias)) - expected).abs().max()
    assert error <= 0.02 * expected.abs().max()  # 8 bits: errors of a percent of the range


@pytest.mark.parametrize("bidirectional", [True, False])
@torch.inference_mode()
def test_int8_lstm_matches_the_lstm_it_copies_padded_or_not(bidirectional):
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(16, 24, num_layers=2, bidirectional=bidirectional, batch_first=True).eval()
    copy = Int8LSTM(lstm)
    x, lengths = torch.randn(3, 7, 16), torch.tensor([5, 7, 2])
    out, (h, c) = copy(x)
    expected, (expected_h, expected_c) = lstm(x)
    for a, b in ((out, expected), (h, expected_h), (c, expected_c)):
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.03)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    (out, _), (h, _) = pad_packed_sequence(copy(packed)[0], batch_first=True), copy(packed)[1]
    (expected, _), (expected_h, _) = pad_packed_sequence(lstm(packed)[0], batch_first=True), lstm(packed)[1]
    torch.testing.assert_close(out, expected, rtol=0.05, atol=0.03)
    torch.testing.assert_close(h, expected_h, rtol=0.05, atol=0.03)  # final states in the caller's batch order
