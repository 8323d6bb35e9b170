"""Why the decoder has no input feeding: training speed with and without it.

    python bench/input_feeding.py [--steps 20] [--threads 2]

Input feeding (Luong et al. 2015) feeds the previous step's combined
[state; context] vector back into the LSTM. Then step t needs step t-1's
attention, so training must loop over target positions in Python. Without it,
the shipped decoder runs the whole target through one LSTM call and attends for
all steps in one batched product. Same sizes, same batches, target tokens/s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.config import ModelConfig  # noqa: E402
from model.seq2seq import Seq2Seq  # noqa: E402


class InputFeedingDecoder(nn.Module):
    """The alternative: LSTMCell over [embedding; previous combined], one Python step per token."""

    def __init__(self, reference: Seq2Seq):
        super().__init__()
        config = reference.config
        self.embedding = reference.decoder.embedding
        self.attention = reference.decoder.attention
        self.cell = nn.LSTMCell(config.embed_dim + config.combine_dim, config.decoder_hidden)
        self.combine = reference.decoder.combine
        self.output = reference.decoder.output

    def forward(self, prev_tokens, state, memory):
        h, c = state[0][0], state[1][0]
        fed = h.new_zeros(h.size(0), self.combine.out_features)
        logits = []
        for t in range(prev_tokens.size(1)):
            h, c = self.cell(torch.cat([self.embedding(prev_tokens[:, t]), fed], -1), (h, c))
            context, _, _ = self.attention(h.unsqueeze(1), memory.keys, memory.values, memory.mask)
            fed = torch.tanh(self.combine(torch.cat([h, context[:, 0]], -1)))
            logits.append(self.output(fed))
        return torch.stack(logits, 1)


def random_batch(size: int, src_len: int, tgt_len: int, vocab: int):
    src = torch.randint(4, vocab, (size, src_len))
    lengths = torch.randint(src_len // 2, src_len + 1, (size,))
    lengths[0] = src_len
    src = src.masked_fill(torch.arange(src_len) >= lengths.unsqueeze(1), 0)
    return src, lengths, torch.randint(4, vocab, (size, tgt_len)), torch.randint(4, vocab, (size, tgt_len))


def tokens_per_second(model: Seq2Seq, decode, batches) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    tokens, start = 0, time.perf_counter()
    for src, lengths, prev, gold in batches:
        memory, state = model.encode(src, lengths)
        logits = decode(prev, state, memory)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tokens += gold.numel()
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    model = Seq2Seq(ModelConfig()).train()
    feeding = InputFeedingDecoder(model).train()
    # 3000 target tokens per batch, the training default: 250 sentences x 12 pieces
    batches = [random_batch(250, 12, 12, 8000) for _ in range(args.steps)]
    shipped = tokens_per_second(model, lambda p, s, m: model.decoder(p, s, m).logits, batches)
    fed = tokens_per_second(model, feeding, batches)
    print(f"{torch.get_num_threads()} threads, batches of 250 x 12 target tokens, {args.steps} steps each")
    print(f"one LSTM call, no input feeding : {shipped:7.0f} target tokens/s")
    print(f"Python loop with input feeding  : {fed:7.0f} target tokens/s  ({shipped / fed:.2f}x slower)")


if __name__ == "__main__":
    main()
