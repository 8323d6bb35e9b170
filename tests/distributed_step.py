"""Two optimizer steps of ``model.train.train_epoch`` on fixed batches, in the world torchrun made (or one process).

    python tests/distributed_step.py OUT.pt                                          # one process
    torchrun --standalone --nproc_per_node=2 tests/distributed_step.py OUT.pt        # two ranks, gloo

Rank 0 saves the weights to OUT.pt for tests/test_distributed.py to compare. The batches hold 7 sentences (4 rows
on rank 0, 3 on rank 1: the token weighting matters) and 1 sentence (rank 1 holds no row: the weight-0 path).
Every rank checks that all hold exactly the same weights, then that ``check_same_weights`` notices a difference.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import distributed
from model.batching import _collate
from model.config import TrainConfig
from model.run_state import Run
from model.seq2seq import Seq2Seq
from model.train import train_epoch

VOCAB = 40


def fixed_batch(sentences: int, generator: torch.Generator):
    """Sentences of different lengths (padding inside the batch), ids past the special ones, EOS-terminated."""
    items = []
    for row in range(sentences):
        source = torch.randint(4, VOCAB, (3 + row,), generator=generator).tolist()
        target = torch.randint(4, VOCAB, (2 + (row * 3) % 5,), generator=generator).tolist()
        items.append(([*source, 3], [*target, 3]))
    return _collate(items)


def main(out: str) -> None:
    torch.set_num_threads(1)
    device = distributed.start(torch.device("cpu"), timeout_s=120)
    config = TrainConfig(
        embed_dim=16, encoder_hidden=16, decoder_hidden=32, combine_dim=16, dropout=0.0, bf16=False,
        lr=1e-3, warmup_steps=1, quiet=True,
    )  # fmt: skip
    torch.manual_seed(0)
    random.seed(0)
    model = Seq2Seq(config.model_config(VOCAB, VOCAB)).to(device)
    generator = torch.Generator().manual_seed(0)
    batches = [fixed_batch(7, generator), fixed_batch(1, generator)]
    start = [tensor.clone() for tensor in model.parameters()]
    run = Run(config, model)
    run.total_steps = len(batches)
    train_epoch(run, batches, device, distributed.wrap(model))
    moved = max(float((after - before).abs().max()) for after, before in zip(model.parameters(), start))
    distributed.check_same_weights(model)
    if distributed.world_size() > 1:
        with torch.no_grad():
            if distributed.rank() == 1:
                next(model.parameters()).add_(1e-3)
        try:
            distributed.check_same_weights(model)
            sys.exit("check_same_weights missed a difference between the ranks")
        except distributed.DistributedError:
            pass
        with torch.no_grad():
            if distributed.rank() == 1:
                next(model.parameters()).sub_(1e-3)
    if distributed.is_main():
        torch.save({"weights": model.state_dict(), "world_size": distributed.world_size(), "moved": moved}, out)
    distributed.finish()


if __name__ == "__main__":
    main(sys.argv[1])
