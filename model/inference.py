"""Inference: the trained model's maths, laid out for decoding one token at a time.

Training pushes whole sequences through ``nn.LSTM`` (one oneDNN/cuDNN call).
Decoding is different: each step turns a handful of vectors into the next
token, so its cost is the number of PyTorch calls (a few microseconds each)
and one read of every weight matrix. ``Inference`` therefore prepares, once
per model, copies of the matrices in the layout that multiplies fastest by a
single row (transposed float32, or int8: see quantize.py), fuses what can be
fused (one product per LSTM layer, the decoder's input gates looked up per
token, the cosine temperature folded into the keys) and, for int8, runs the
encoder LSTM in C++ (quantize.Int8LSTM). The step's maths itself is
kernels.decoder_step, run from Python or, for int8, compiled. float32 gives
the numbers of ``Encoder``/``Decoder.forward`` up to rounding, int8 stays
close to them: tests check both.

Shapes: B = sentences still decoding, S = source length, E = encoder output
size, H = decoder hidden size, V = target vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import kernels
from .attention import AdditiveScore, CosineScore
from .encoder import State
from .quantize import LSTM_WEIGHTS, Int8LSTM, int8_linear, int8_supported, pack_int8
from .seq2seq import Seq2Seq


class StepLinear:
    """x (B, in) -> x @ W.T + b for one weight matrix, prepared once for one-row products.

    MKL reads a weight stored (in, out) faster than the (out, in) layout
    nn.Linear keeps (docs/performance.md), so the float copy is transposed; the int8 copy is fbgemm's
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


@dataclass
class StepParts:
    """One decoding step with every intermediate, as the model computed it (Inference.step_parts).

    The attention fields (similarity to context) are None for a model without attention.
    """

    fed: Tensor  # (B,) piece id fed into this step (the previous output, <s> at step 0)
    query: Tensor  # (B, H) decoder state h_t (top LSTM layer output) that attends
    similarity: Tensor | None  # (B, S) cosine similarity in [-1, 1] of h_t with each projected encoder output
    temperature: float | None  # the learned cosine scale (cosine only)
    scores: Tensor | None  # (B, S) the numbers fed to softmax
    attention: Tensor | None  # (B, S) softmax weights, rows sum to 1, 0 on padding
    context: Tensor | None  # (B, E) c_t = sum_i attention_i * enc_i
    combined: Tensor  # (B, C) tanh(W [h_t; c_t])
    logits: Tensor  # (B, V_out) output layer (columns = Inference.output_pieces ids, or all)
    state: State  # the new LSTM state


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
        score_function = None if self.attention is None else self.attention.score_function
        # cosine: the learned temperature is folded into the keys once per sentence, saving two calls a step
        self.temperature = score_function.temperature.detach() if isinstance(score_function, CosineScore) else None
        self.output_pieces = decoder.output_pieces  # the output layer scores these pieces (all of them when None)
        self.step_weights = self._prepare_step(score_function)
        self.bridge_h = StepLinear(encoder.bridge_h.weight, encoder.bridge_h.bias, self.int8)
        self.bridge_c = StepLinear(encoder.bridge_c.weight, encoder.bridge_c.bias, self.int8)
        # float32 runs the encoder's own oneDNN LSTM; int8 a copy with int8 weights (quantize.Int8LSTM)
        self.encoder_lstm = Int8LSTM(encoder.lstm) if self.int8 else None
        compiled = kernels.compiled() if self.int8 else None
        # the same step compiled, with fbgemm's packed matrices; dot-product-style scores (cosine, dot, general) only
        plain_scores = self.step_weights.scoring in ("cosine", "dot")
        self.packed_weights = self._packed(self.step_weights) if compiled and plain_scores else None
        self.compiled_step = compiled["decoder_step"] if self.packed_weights is not None else None
        self.compiled_greedy = compiled["greedy_loop"] if self.packed_weights is not None else None
        self.compiled_bridge = compiled["bridge"] if compiled else None

    def _prepare_step(self, score_function) -> kernels.StepWeights:
        """The decoder's matrices as kernels.decoder_step takes them, in StepLinear form (float32 or int8)."""
        decoder = self.model.decoder
        input_gates, lstm_layers = self._prepare_decoder_lstm()
        rows = slice(None) if self.output_pieces is None else self.output_pieces
        additive = isinstance(score_function, AdditiveScore)
        if score_function is None:
            scoring = "none"
        elif isinstance(score_function, CosineScore):
            scoring = "cosine"
        elif additive:
            scoring = "additive"
        else:  # dot and general: general's matrix is in the keys already
            scoring = "dot"
        return kernels.StepWeights(
            input_gates=input_gates,
            lstm_layers=lstm_layers,
            combine=StepLinear(decoder.combine.weight, decoder.combine.bias, self.int8),
            output=StepLinear(decoder.output.weight[rows], decoder.output.bias[rows], self.int8),
            output_pieces=self.output_pieces,
            scoring=scoring,
            query_layer=StepLinear(score_function.query_layer.weight, None, self.int8) if additive else None,
            energy=score_function.energy.weight.detach() if additive else None,
        )

    @staticmethod
    def _packed(weights: kernels.StepWeights) -> kernels.StepWeights:
        """The int8 StepLinears' packed matrices: what the compiled step takes."""
        return weights._replace(
            lstm_layers=[layer.packed for layer in weights.lstm_layers],
            combine=weights.combine.packed,
            output=weights.output.packed,
        )

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
        keys = memory.keys if self.temperature is None else memory.keys * self.temperature
        return StepMemory(memory.values, keys, blocked), state

    def _bridge(self, h_n: Tensor, c_n: Tensor) -> State:
        """The encoder's final (h, c) -> the decoder's initial state (Encoder.bridge; kernels.bridge, compiled)."""
        directions, layers = 2 if self.config.bidirectional else 1, self.config.decoder_layers
        if self.compiled_bridge is None:
            return kernels.bridge(h_n, c_n, self.bridge_h, self.bridge_c, directions, layers)
        return self.compiled_bridge(h_n, c_n, self.bridge_h.packed, self.bridge_c.packed, directions, layers)

    def pieces(self, columns: Tensor) -> Tensor:
        """Logits columns -> target piece ids."""
        return columns if self.output_pieces is None else self.output_pieces[columns]

    def step(self, prev: Tensor, state: State, memory: StepMemory, top_k: int = 0) -> Step:
        """prev (B,) the tokens just emitted -> next-token logits, new state, attention, top_k candidates."""
        if self.compiled_step is None:
            return self.eager_step(prev, state, memory, top_k)
        keys, values, blocked = memory.keys, memory.values, memory.blocked
        logits, h, c, attention, scores, probs, ids = self.compiled_step(
            prev, *state, keys, values, blocked, self.packed_weights, top_k
        )
        return Step(logits, (h, c), attention, scores, probs, ids)

    def eager_step(self, prev: Tensor, state: State, memory: StepMemory, top_k: int = 0) -> Step:
        """``step`` from Python: float32, additive attention, no attention, or no TorchScript."""
        out = self._eager(prev, state, memory, top_k)
        return Step(out.logits, (out.h, out.c), out.attention, out.scores, out.top_probs, out.top_ids)

    def step_parts(self, prev: Tensor, state: State, memory: StepMemory) -> StepParts:
        """``eager_step`` with every intermediate kept: what the page's step view shows.

        The same function and matrices as decoding (int8 when this Inference is); the similarity is the
        scores divided by the temperature, the one number the step does not form (it folds the temperature
        into the keys).
        """
        out = self._eager(prev, state, memory, 0)
        similarity, temperature = None, None
        if self.temperature is not None:
            temperature = float(self.temperature)
            similarity = (out.scores / self.temperature).clamp(-1.0, 1.0)
        return StepParts(
            fed=prev,
            query=out.query,
            similarity=similarity,
            temperature=temperature,
            scores=out.scores,
            attention=out.attention,
            context=out.context,
            combined=out.combined,
            logits=out.logits,
            state=(out.h, out.c),
        )

    def _eager(self, prev: Tensor, state: State, memory: StepMemory, top_k: int) -> kernels.StepOutput:
        return kernels.decoder_step(prev, *state, memory.keys, memory.values, memory.blocked, self.step_weights, top_k)

    def greedy_steps(
        self, prev: Tensor, state: State, memory: StepMemory, limits: Tensor, top_k: int
    ) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
        """The whole greedy loop compiled (only when ``compiled_greedy`` is set; top_k >= 1).

        -> per step: batch rows still decoding, top_ids (column 0 emitted), top_probs, attention, scores.
        """
        keys, values, blocked = memory.keys, memory.values, memory.blocked
        eos = self.config.eos_id
        return self.compiled_greedy(prev, *state, keys, values, blocked, self.packed_weights, top_k, limits, eos)
