"""Inference: the trained model's maths, laid out for decoding one token at a time.

Training pushes whole sequences through ``nn.LSTM`` (one oneDNN/cuDNN call).
Decoding is different: each step turns a handful of vectors into the next
token, so its cost is the number of PyTorch calls (a few microseconds each)
and one read of every weight matrix. ``Inference`` therefore prepares, once
per model, copies of the matrices in the layout that multiplies fastest by a
single row (transposed float32, or int8: see quantize.py), fuses what can be
fused (one product per LSTM layer, the decoder's input gates looked up per
token, the cosine temperature folded into the keys) and, for int8, runs the
encoder LSTM in C++ (quantize.Int8LSTM) and the decoding loop compiled
(kernels.py). float32 gives the numbers of ``Encoder``/``Decoder.forward`` up
to rounding, int8 stays close to them: tests check both.

Shapes: B = sentences still decoding, S = source length, E = encoder output
size, H = decoder hidden size, V = target vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import kernels
from .attention import CosineScore
from .encoder import State
from .quantize import LSTM_WEIGHTS, Int8LSTM, int8_linear, int8_supported, pack_int8
from .seq2seq import Seq2Seq


class StepLinear:
    """x (B, in) -> x @ W.T + b for one weight matrix, prepared once for one-row products.

    MKL reads a weight stored (in, out) 3-4x faster than the (out, in) layout
    nn.Linear keeps, so the float copy is transposed; the int8 copy is fbgemm's
    packed form with the bias inside.
    """

    def __init__(self, weight: Tensor, bias: Tensor | None, int8: bool):
        weight = weight.detach()
        self.size = weight.size(0)
        self.bias = None if bias is None else bias.detach().clone()
        self.packed = pack_int8(weight, self.bias) if int8 else None
        self.transposed = None if int8 else weight.t().contiguous()

    def __call__(self, x: Tensor) -> Tensor:
        if self.packed is not None:
            return int8_linear(x, self.packed)
        if self.bias is None:
            return torch.mm(x, self.transposed)
        return torch.addmm(self.bias, x, self.transposed)


def _gates_sigmoid_first(tensor: Tensor) -> Tensor:
    """Reorder LSTM gate rows from PyTorch's (i, f, g, o) to (i, f, o, g): one sigmoid then covers three."""
    i, f, g, o = tensor.detach().chunk(4, dim=0)
    return torch.cat([i, f, o, g], dim=0)


@dataclass
class StepMemory:
    """The source side, prepared once per sentence: values (B, S, E), keys (B, S, K), blocked (B, 1, S) or None.

    ``blocked`` marks padding; it is None when no sentence in the batch has any,
    which saves a masking call at every step.
    """

    values: Tensor
    keys: Tensor
    blocked: Tensor | None

    def index_select(self, rows: Tensor) -> StepMemory:
        blocked = None if self.blocked is None else self.blocked[rows]
        return StepMemory(self.values[rows], self.keys[rows], blocked)


@dataclass
class Step:
    """One decoding step for B sentences."""

    logits: Tensor  # (B, V_out): one column per output piece, piece ids in Inference.output_pieces (None: all)
    state: State  # (layers, B, H) each
    attention: Tensor | None  # (B, S) softmax weights over the source, None without attention
    scores: Tensor | None  # (B, S) the numbers fed to softmax
    top_probs: Tensor  # (B, k) the k most probable next tokens (empty when not asked for)
    top_ids: Tensor  # (B, k) piece ids


class Inference:
    """A trained ``Seq2Seq`` ready to decode; read-only once built, so threads can share it.

    ``int8=True`` (CPU only) multiplies with int8 weights, the encoder's
    recurrence included; otherwise float32, the same numbers as the training
    modules up to rounding. Build a new one after the weights change.
    """

    def __init__(self, model: Seq2Seq, int8: bool = False):
        self.model = model.eval()
        self.config = model.config
        device = next(model.parameters()).device
        self.int8 = bool(int8 and device.type == "cpu" and int8_supported())
        decoder, encoder = model.decoder, model.encoder
        self.attention = decoder.attention
        self.input_gates, self.lstm_layers = self._prepare_decoder_lstm()
        self.lstm_packed = [layer.packed for layer in self.lstm_layers]  # the compiled step's argument, made once
        self.combine = StepLinear(decoder.combine.weight, decoder.combine.bias, self.int8)
        # the output layer's rows for the pieces it scores (decoder.output_pieces; all of them when None)
        self.output_pieces = decoder.output_pieces
        rows = slice(None) if self.output_pieces is None else self.output_pieces
        self.output = StepLinear(decoder.output.weight[rows], decoder.output.bias[rows], self.int8)
        self.bridge_h = StepLinear(encoder.bridge_h.weight, encoder.bridge_h.bias, self.int8)
        self.bridge_c = StepLinear(encoder.bridge_c.weight, encoder.bridge_c.bias, self.int8)
        # float32 runs the encoder's own oneDNN LSTM; int8 a copy with int8 weights (quantize.Int8LSTM)
        self.encoder_lstm = Int8LSTM(encoder.lstm) if self.int8 else None
        compiled = kernels.compiled() if self.int8 else None
        # dot-product-style scores (cosine, dot, general) step through the compiled kernel
        plain_scores = self.attention is not None and self.attention.kind in ("cosine", "dot", "general")
        self.compiled_step = compiled["decoder_step"] if compiled and plain_scores else None
        self.compiled_greedy = compiled["greedy_loop"] if compiled and plain_scores else None
        self.compiled_bridge = compiled["bridge"] if compiled else None
        # cosine: the learned temperature is folded into the keys once per sentence, saving two calls a step
        score_function = None if self.attention is None else self.attention.score_function
        self.cosine_scale = score_function.log_scale.detach().exp() if isinstance(score_function, CosineScore) else None

    def _prepare_decoder_lstm(self) -> tuple[Tensor, list[StepLinear]]:
        """Layer 0's input gates for every target token, and per LSTM layer the product that remains per step.

        Layer 0's input is a token embedding, so W_ih e + b is looked up in a (V, 4H) table made here
        instead of multiplied at every step: the step then reads W_hh (a third less weight than [W_ih W_hh])
        and one table row. The table is float32 for exact decoding and bfloat16 beside int8 weights (half
        the memory; its rounding is below int8's). Layers above take one product of [x; h] with [W_ih W_hh].
        """
        decoder = self.model.decoder
        layers = []
        input_gates = None
        for layer in range(decoder.lstm.num_layers):
            w_ih, w_hh, b_ih, b_hh = (getattr(decoder.lstm, f"{name}_l{layer}").detach() for name in LSTM_WEIGHTS)
            bias = _gates_sigmoid_first(b_ih + b_hh)
            if layer == 0:
                input_gates = self._input_gate_table(
                    decoder.embedding.weight.detach(), _gates_sigmoid_first(w_ih), bias
                )
                layers.append(StepLinear(_gates_sigmoid_first(w_hh), None, self.int8))
            else:
                fused = torch.cat([_gates_sigmoid_first(w_ih), _gates_sigmoid_first(w_hh)], dim=1)
                layers.append(StepLinear(fused, bias, self.int8))
        return input_gates, layers

    def _input_gate_table(self, embedding: Tensor, w_ih: Tensor, bias: Tensor) -> Tensor:
        """(V, E) embeddings -> (V, 4H) W_ih e + b, written in blocks so a bfloat16 table never exists in float32."""
        table = embedding.new_empty(embedding.size(0), w_ih.size(0), dtype=torch.bfloat16 if self.int8 else None)
        for start in range(0, embedding.size(0), 1024):
            rows = slice(start, start + 1024)
            table[rows] = torch.addmm(bias, embedding[rows], w_ih.t())
        return table

    def encode(self, src: Tensor, lengths: Tensor) -> tuple[StepMemory, State]:
        """src (B, S) ids, lengths (B,) -> the prepared source side and the decoder's initial state."""
        encoder = self.model.encoder
        outputs, (h_n, c_n) = encoder.read(src, lengths, lstm=self.encoder_lstm)
        memory = self.model.decoder.memory(outputs, src != self.config.pad_id)
        state = self._bridge(h_n, c_n)
        blocked = None if bool(memory.mask.all()) else ~memory.mask.unsqueeze(1)  # (B, 1, S)
        keys = memory.keys if self.cosine_scale is None else memory.keys * self.cosine_scale
        return StepMemory(memory.values, keys, blocked), state

    def _bridge(self, h_n: Tensor, c_n: Tensor) -> State:
        """The encoder's final (h, c) -> the decoder's initial state (Encoder.bridge, compiled with int8)."""
        if self.compiled_bridge is None:
            encoder = self.model.encoder
            return encoder.bridge(self.bridge_h, h_n), encoder.bridge(self.bridge_c, c_n)
        directions = 2 if self.config.bidirectional else 1
        return self.compiled_bridge(
            h_n, c_n, self.bridge_h.packed, self.bridge_c.packed, directions, self.config.decoder_layers
        )

    def _kernel_arguments(self, state: State, memory: StepMemory) -> tuple:
        """What the compiled kernels take after ``prev``: the state, the source side, the prepared weights."""
        return (
            state[0],
            state[1],
            memory.keys,
            memory.values,
            memory.blocked,
            self.input_gates,
            self.lstm_packed,
            self.combine.packed,
            self.output.packed,
            self.output_pieces,
            self.cosine_scale is not None,
        )

    def pieces(self, columns: Tensor) -> Tensor:
        """Logits columns -> target piece ids."""
        return columns if self.output_pieces is None else self.output_pieces[columns]

    def step(self, prev: Tensor, state: State, memory: StepMemory, top_k: int = 0) -> Step:
        """prev (B,) the tokens just emitted -> next-token logits, new state, attention, top_k candidates."""
        if self.compiled_step is not None:
            logits, h, c, attention, scores, probs, ids = self.compiled_step(
                prev, *self._kernel_arguments(state, memory), top_k
            )
            return Step(logits, (h, c), attention, scores, probs, ids)
        return self.eager_step(prev, state, memory, top_k)

    def greedy_steps(
        self, prev: Tensor, state: State, memory: StepMemory, limits: Tensor, top_k: int
    ) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
        """The whole greedy loop in the compiled kernel (only when ``compiled_greedy`` is set; top_k >= 1).

        -> per step: batch rows still decoding, top_ids (column 0 emitted), top_probs, attention, scores.
        """
        arguments = self._kernel_arguments(state, memory)
        return self.compiled_greedy(prev, *arguments, top_k, limits, self.config.eos_id)

    def eager_step(self, prev: Tensor, state: State, memory: StepMemory, top_k: int = 0) -> Step:
        """``step`` in plain PyTorch: float32, additive attention, no attention, or no TorchScript."""
        hidden, state = self._lstm(prev, state)
        if self.attention is None:
            logits = self.output(torch.tanh(self.combine(hidden)))
            return Step(logits, state, None, None, *kernels.top_pieces(logits, top_k, self.output_pieces))
        query = hidden.unsqueeze(1)  # (B, 1, H)
        if self.cosine_scale is None:
            scores = self.attention.score_function.score(query, memory.keys)  # (B, 1, S)
        else:  # keys are unit vectors times the temperature already
            scores = torch.bmm(query / query.norm(dim=-1, keepdim=True).clamp_min(1e-12), memory.keys.transpose(1, 2))
        masked = scores if memory.blocked is None else scores.masked_fill(memory.blocked, float("-inf"))
        attention = torch.softmax(masked, dim=-1)
        context = torch.bmm(attention, memory.values)[:, 0]
        combined = torch.tanh(self.combine(torch.cat([hidden, context], dim=1)))
        logits = self.output(combined)
        return Step(
            logits, state, attention[:, 0], scores[:, 0], *kernels.top_pieces(logits, top_k, self.output_pieces)
        )

    def _lstm(self, prev: Tensor, state: State) -> tuple[Tensor, State]:
        """prev (B,) token ids -> top layer's h (B, H); gate rows are ordered (i, f, o, g) here."""
        h_all, c_all = state
        hs, cs = [], []
        x = prev
        for layer, lstm_layer in enumerate(self.lstm_layers):
            if layer == 0:
                gates = lstm_layer(h_all[0]) + self.input_gates.index_select(0, prev)  # float32 + bf16 -> float32
            else:
                gates = lstm_layer(torch.cat([x, h_all[layer]], dim=1))
            x, c = kernels.lstm_cell(gates, c_all[layer], h_all.size(2))
            hs.append(x)
            cs.append(c)
        return x, (torch.stack(hs), torch.stack(cs))
