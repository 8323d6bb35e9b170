"""Joey NMT 2.3.0's recurrent model, timed on this machine: the reference the translator must beat 5x.

The issue's figure (16 tokens at batch 1 in 23-29 ms) was measured on the CPU machines of its day; the
machines differ from run to run (AMD EPYC, Intel Xeon), so bench/speed.py can time Joey on the same machine
in the same run instead. Joey is not a dependency of the project; give it its own environment:

    python3 -m venv /tmp/joeyenv
    /tmp/joeyenv/bin/pip install torch==2.13.0 numpy pyyaml sacrebleu sentencepiece subword-nmt sacremoses
    /tmp/joeyenv/bin/pip install --no-deps joeynmt==2.3.0
    /tmp/joeyenv/bin/python bench/joey.py            # prints Joey's ms per 16 tokens
    python bench/speed.py --joey-python /tmp/joeyenv/bin/python

The model is the prototype's size (embeddings 256, bidirectional LSTM 256 per direction, decoder LSTM 256,
input feeding, 8,000 pieces each side; Luong attention by default, the faster of Joey's two, or
``--attention bahdanau``) with random weights: the time of a greedy step does not depend on the values, and
the minimum output length is set so it writes exactly 16 tokens. Only the network is timed (encoder and
greedy loop), not Joey's batching or tokenization, so the reference errs on Joey's side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from types import SimpleNamespace

import torch
from joeynmt.model import build_model
from joeynmt.search import recurrent_greedy
from joeynmt.vocabulary import Vocabulary

PIECES = 8000
SOURCE_TOKENS = 17  # the source length of bench/speed.py's 16-piece sentence, EOS included
TARGET_TOKENS = 16


def vocabulary() -> Vocabulary:
    specials = SimpleNamespace(
        unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>", sep_token=None,
        lang_tags=[], unk_id=0, pad_id=1, bos_id=2, eos_id=3,
    )  # fmt: skip
    return Vocabulary([f"piece{i}" for i in range(PIECES - 4)], specials)


def prototype_sized_model(attention: str):
    embeddings = {"embedding_dim": 256}
    config = {
        "encoder": {"type": "recurrent", "rnn_type": "lstm", "hidden_size": 256, "bidirectional": True,
                    "embeddings": embeddings},
        "decoder": {"type": "recurrent", "rnn_type": "lstm", "hidden_size": 256, "attention": attention,
                    "input_feeding": True, "init_hidden": "bridge", "embeddings": embeddings},
    }  # fmt: skip
    vocab = vocabulary()
    return build_model(config, src_vocab=vocab, trg_vocab=vocab).eval()


@torch.inference_mode()
def translate_once(model, src: torch.Tensor) -> torch.Tensor:
    lengths = torch.tensor([src.size(1)])
    mask = (src != model.pad_index).unsqueeze(1)
    encoder_output, encoder_hidden, _, _ = model(return_type="encode", src=src, src_length=lengths, src_mask=mask)
    output, _, _ = recurrent_greedy(
        mask, TARGET_TOKENS, model, encoder_output, encoder_hidden, min_output_length=TARGET_TOKENS
    )
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--attention", choices=["luong", "bahdanau"], default="luong")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a line")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = prototype_sized_model(args.attention)
    src = torch.randint(4, PIECES, (1, SOURCE_TOKENS))
    assert translate_once(model, src).size(1) == TARGET_TOKENS
    for _ in range(5):
        translate_once(model, src)
    samples = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        translate_once(model, src)
        samples.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(samples)
    if args.json:
        figures = {"joey_ms_per_16_tokens": p50, "attention": args.attention, "threads": args.threads}
        print(json.dumps({**figures, "torch": torch.__version__}))
    else:
        setting = f"{args.attention} attention, batch 1, {args.threads} thread(s)"
        print(f"Joey NMT 2.3.0, prototype-sized LSTM, {setting}: {p50:.2f} ms per 16 tokens")


if __name__ == "__main__":
    main()
