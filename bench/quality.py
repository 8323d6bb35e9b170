"""Quality of model folders on issue 16's sets: BLEU/chrF per length bucket, omission and repetition.

    python bench/quality.py --models assets/en-es runs/ablation/* --sets dev --decoders greedy
    python bench/quality.py --decoders beam5 --alpha 1 --beta 0 0.2 0.4 --sets dev dev_joined   # tune the penalties

Sets come from model/evaluate.py (dev for choices; test_split, tatoeba, tatoeba_unseen only to report).
dev has only 10 sentences of 16+ words, too few to choose by, so ``dev_joined`` adds long dev inputs: the dev
pairs shuffled (seed 0) and joined three by three on both sides (755 pairs, mostly 16+ words).
Each set is scored overall and in the fixed buckets 1-5/6-10/11-15/16+ English words, with three
omission/repetition figures: the share of translations shorter than 0.7x the reference (words), the
share with a repeated word trigram, and the dictionary-anchored dropped-content-word share
(bench/quality_omission.py; left out with a note where Apertium is not installed).
Decoding is int8 unless --no-int8. Prints one line per model, decoder and set; --out writes the JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import quality_omission  # noqa: E402

from model import search  # noqa: E402
from model.evaluate import TARGET_EDGES, Pair, score_by_length, standard_sets  # noqa: E402

LONG = "16+"  # the bucket issue 16 targets
SET_NAMES = ("dev", "dev_joined", "test_split", "tatoeba", "tatoeba_unseen")
JOIN = 3  # dev pairs per dev_joined pair


def joined(pairs: list[Pair], group: int = JOIN, seed: int = 0) -> list[Pair]:
    """Pairs shuffled, then joined ``group`` at a time on both sides: long inputs with a known reference."""
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    groups = [shuffled[i : i + group] for i in range(0, len(shuffled) - group + 1, group)]
    return [(" ".join(en for en, _ in g), " ".join(es for _, es in g)) for g in groups]


class SetScorer:
    """One test set, analysed once (the dictionary side), scoring any number of systems' translations."""

    def __init__(self, pairs: list[Pair], dictionary: bool = True):
        self.sources = [en for en, _ in pairs]
        self.references = [es for _, es in pairs]
        self.long = [i for i, s in enumerate(self.sources) if len(s.split()) >= 16]
        use_dictionary = dictionary and quality_omission.available()
        self.omission = quality_omission.DictionaryOmission(self.sources, self.references) if use_dictionary else None

    def report(self, hypotheses: list[str], seconds: float | None = None) -> dict:
        """score_by_length in the fixed buckets, plus the dictionary omission overall and on 16+."""
        result = score_by_length(self.sources, hypotheses, self.references, min_count=0, edges=TARGET_EDGES)
        if self.omission is not None:
            result["overall"]["dictionary"] = self.omission.score(hypotheses).to_dict()
            long = next(b for b in result["buckets"] if b["words"] == LONG)
            if self.long:
                long["dictionary"] = self.omission.score(hypotheses, self.long).to_dict()
        if seconds is not None:
            result["seconds"] = round(seconds, 2)
            result["sentences_per_s"] = round(len(hypotheses) / seconds, 1)
        return result


def parse_decoder(name: str) -> int:
    """'greedy' -> 1, 'beam5' -> 5."""
    if name == "greedy":
        return 1
    if name.startswith("beam") and name[4:].isdigit() and int(name[4:]) >= 1:
        return int(name[4:])
    raise argparse.ArgumentTypeError(f"decoder must be 'greedy' or 'beamN', got {name!r}")


def translate(translator, sources: list[str], beam: int) -> tuple[list[str], float]:
    """Translations with the translator's defaults, and the seconds they took."""
    start = time.perf_counter()
    texts = [t.text for t in translator.translate_batch(sources, beam_size=beam)]
    return texts, time.perf_counter() - start


def beam_settings(translator, sources: list[str], beam: int, settings: list[tuple[float, float]]):
    """{(alpha, beta): translations} from ONE beam search per sentence, and the seconds that search took.

    alpha (length penalty) and beta (coverage penalty) only reorder the hypotheses the search finished
    (search.best_finished, tested), so each sentence's finished ones are kept and ranked once per setting.
    """
    finished: list[list] = []
    original = search.best_finished

    def keep(hypotheses, alpha, beta):
        finished.append(list(hypotheses))
        return original(hypotheses, alpha, beta)

    texts: dict[tuple[float, float], list[str]] = {setting: [] for setting in settings}
    search.best_finished = keep
    start = time.perf_counter()
    try:
        for source in sources:
            finished.clear()
            unfinished = translator.translate(source, beam_size=beam).text  # stopped by the length limit
            for setting in settings:
                best = original(finished[0], *setting) if finished else None
                texts[setting].append(unfinished if best is None else translator.target.decode(best.tokens))
    finally:
        search.best_finished = original
    return texts, time.perf_counter() - start


def line(label: str, set_name: str, result: dict) -> str:
    """One printed summary line: overall and 16+ BLEU/chrF and the omission figures."""
    overall = result["overall"]
    long = next(b for b in result["buckets"] if b["words"] == LONG)
    long_text = f"16+ {long['bleu']:5.2f}/{long['chrf']:5.2f} (n={long['sentences']})" if long["sentences"] else ""
    dictionary = overall.get("dictionary", {}).get("dropped_share")
    dropped = "" if dictionary is None else f" dropped {dictionary:.3f}"
    long_dropped = long.get("dictionary", {}).get("dropped_share")
    dropped += "" if long_dropped is None else f" (16+ {long_dropped:.3f})"
    return (
        f"{label:34s} {set_name:14s} BLEU {overall['bleu']:5.2f} chrF {overall['chrf']:5.2f}  {long_text}"
        f"  short {overall['short_share']:.3f} repeat {overall['repeat_share']:.3f}{dropped}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["assets/en-es"])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/data/spa-eng/spa.txt"))
    parser.add_argument("--benchmark", default=str(ROOT.parent / "shared/data/tatoeba-test/eng-spa.tsv"))
    parser.add_argument("--sets", nargs="+", default=["dev"], choices=SET_NAMES)
    parser.add_argument("--decoders", nargs="+", type=parse_decoder, default=[1], help="greedy, beam5, ...")
    parser.add_argument("--alpha", nargs="+", type=float, default=[1.0], help="beam length penalty alpha(s)")
    parser.add_argument("--beta", nargs="+", type=float, default=[search.COVERAGE_BETA], help="coverage penalty(s)")
    parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (more than the free cores thrash)")
    parser.add_argument("--no-dictionary", action="store_true", help="skip the Apertium dictionary omission")
    parser.add_argument("--out", default=None, help="write the full report as JSON")
    args = parser.parse_args()

    import torch

    from model import Translator

    torch.set_num_threads(args.threads)

    sets = standard_sets(args.corpus, args.benchmark)
    sets["dev_joined"] = joined(sets["dev"])
    sets = {name: pairs for name, pairs in sets.items() if name in args.sets}
    scorers = {name: SetScorer(pairs, dictionary=not args.no_dictionary) for name, pairs in sets.items()}
    if not args.no_dictionary and not quality_omission.available():
        print("note: Apertium not installed, dictionary omission left out (sudo apt-get install apertium-eng-spa)")
    report = {"int8": args.int8, "results": []}
    for folder in args.models:
        translator = Translator.load(folder, device="cpu", int8=args.int8)
        for beam, (set_name, scorer) in itertools.product(args.decoders, scorers.items()):
            if beam == 1:
                texts, seconds = translate(translator, scorer.sources, beam)
                runs = {(None, None): texts}
            else:
                runs, seconds = beam_settings(
                    translator, scorer.sources, beam, list(itertools.product(args.alpha, args.beta))
                )
            for (alpha, beta), hypotheses in runs.items():
                label = f"{folder} " + ("greedy" if beam == 1 else f"beam{beam} alpha {alpha:g} beta {beta:g}")
                result = scorer.report(hypotheses, seconds)
                print(line(label, set_name, result), flush=True)
                entry = {"model": folder, "beam": beam, "alpha": alpha, "beta": beta, "set": set_name, **result}
                report["results"].append(entry)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
