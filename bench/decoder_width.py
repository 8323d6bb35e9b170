"""Would a narrower decoder decode faster? The compiled greedy loop, timed for the shipped decoder and narrower ones.

    python bench/decoder_width.py [--widths 256 384] [--threads 1]

A step's time does not depend on the weights' values, so the narrower decoders are the shipped
architecture with ``decoder_hidden`` changed and random weights (the shipped output pieces kept). Each
writes exactly 16 steps (EOS is not allowed to stop it) from the 16-piece sentence of bench/speed.py;
encoding is timed apart. Rounds alternate between the models so the host's noise falls on all of them.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys

from common import ROOT, time_calls

sys.path.insert(0, str(ROOT))

import torch

from model import Translator
from model.inference import Inference
from model.seq2seq import Seq2Seq

SENTENCE = "She told me that she had never seen such a beautiful house in her life."
STEPS = 16


def narrower(translator: Translator, width: int) -> Inference:
    model = Seq2Seq(dataclasses.replace(translator.config, decoder_hidden=width)).eval()
    if translator.model.decoder.output_pieces is not None:
        model.decoder.output_pieces.copy_(translator.model.decoder.output_pieces)
    return Inference(model, int8=True)


@torch.inference_mode()
def timings(inference: Inference, src: torch.Tensor, lengths: torch.Tensor, repeats: int) -> tuple[float, float]:
    """-> (encode ms, 16 greedy steps ms)."""
    memory, state = inference.encode(src, lengths)
    prev = torch.full((1,), inference.config.bos_id, dtype=torch.long)
    limits = torch.tensor([STEPS])
    arguments = (*state, memory.keys, memory.values, memory.blocked, inference.packed_weights)

    def steps():
        return inference.compiled_greedy(prev, *arguments, 5, limits, -1)  # eos -1: never stops

    encode_ms = statistics.median(time_calls(lambda: inference.encode(src, lengths), repeats, repeats // 10))
    return encode_ms, statistics.median(time_calls(steps, repeats, repeats // 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[256, 384])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    translator = Translator.load(device="cpu")
    if translator.inference.compiled_greedy is None:
        sys.exit("needs int8 decoding with TorchScript (the CPU default)")
    models = {f"shipped ({translator.config.decoder_hidden})": translator.inference}
    models.update({f"{width}, random weights": narrower(translator, width) for width in args.widths})
    ids = translator.source.encode_batch([SENTENCE])[0]
    src, lengths = torch.tensor([ids]), torch.tensor([len(ids)])
    print(f"decoder width: encode ms / {STEPS} greedy steps ms, {args.threads} thread(s), {len(ids)} source pieces")
    for round_ in range(1, args.rounds + 1):
        figures = {name: timings(inference, src, lengths, args.repeats) for name, inference in models.items()}
        print(f"round {round_}: " + "; ".join(f"{name} {e:.2f} / {s:.2f}" for name, (e, s) in figures.items()))


if __name__ == "__main__":
    main()
