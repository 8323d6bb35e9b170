"""A peer side by side: the rule-based Apertium and our shipped model on the same test sets.

    sudo apt-get install apertium-eng-spa          # Debian/Ubuntu; the benchmark skips Apertium without it
    python bench/apertium.py --phase quality       # scores; about 10 minutes on 2 cores (beam 5 is most of it)
    python bench/apertium.py --phase speed         # sentences/s only, about a minute: pause other work meanwhile
    python bench/apertium.py --models assets/en-es assets/en-es-large --out /tmp/peer.json

Sets (model/evaluate.py): the held-out split, all 10,000 Tatoeba-test pairs and the 4,033 whose English
is not in the corpus, each overall and per 1-5/6-10/11-15/16+ English words, with BLEU/chrF and the
omission figures of bench/quality.py. Ours: int8, greedy and beam 5 with the translator's defaults.
The unseen set's translations are the full set's, picked out. Sentences/s is timed on the first 2,000
Tatoeba sentences in one call per system (Apertium: one `apertium -u eng-spa` pipeline, whose ~10
processes share the cores; ours: translate_batch with --threads torch threads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from common import print_table  # noqa: E402
from quality import LONG, SetScorer, line, translate  # noqa: E402
from sentences import FOUNDING  # noqa: E402

from model.data import normalize  # noqa: E402
from model.evaluate import standard_sets  # noqa: E402

MODE = Path("/usr/share/apertium/modes/eng-spa.mode")
INSTALL = "sudo apt-get install apertium-eng-spa"
SETS = ("test_split", "tatoeba", "tatoeba_unseen")


def apertium_available() -> bool:
    return shutil.which("apertium") is not None and MODE.exists()


def apertium_translate(sources: list[str]) -> tuple[list[str], float]:
    """One translation per line (unknown-word marks off) and the seconds the whole pipeline took."""
    text = "".join(s.replace("\n", " ") + "\n" for s in sources)
    start = time.perf_counter()
    out = subprocess.run(["apertium", "-u", "eng-spa"], input=text, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    lines = out.stdout.split("\n")[: len(sources)]
    if len(lines) != len(sources):
        raise RuntimeError(f"apertium returned {len(lines)} lines for {len(sources)}")
    return [normalize(t) for t in lines], seconds


def system_translations(translate_all, sets: dict) -> dict[str, tuple[list[str], float | None]]:
    """{set: (translations, seconds or None)}; the unseen set reuses the full Tatoeba's translations."""
    done = {name: translate_all([en for en, _ in sets[name]]) for name in ("test_split", "tatoeba")}
    wanted = {en for en, _ in sets["tatoeba_unseen"]}
    picked = [t for (en, _), t in zip(sets["tatoeba"], done["tatoeba"][0]) if en in wanted]
    done["tatoeba_unseen"] = (picked, None)
    return done


def targets(ours: dict, peer: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """Issue 16's targets for the shipped default (int8 greedy)."""
    long = next(b for b in ours["tatoeba"]["buckets"] if b["words"] == LONG)["bleu"]
    tatoeba, held_out = ours["tatoeba"]["overall"]["bleu"], ours["test_split"]["overall"]["bleu"]
    unseen = ours["tatoeba_unseen"]["overall"]["chrf"]
    peer_unseen = peer["tatoeba_unseen"]["overall"]["chrf"] if peer else None
    rows = [
        ("Tatoeba BLEU", f"{tatoeba:.2f}", ">= 40.0", tatoeba >= 40),
        ("Tatoeba 16+ BLEU", f"{long:.2f}", ">= 22", long >= 22),
        ("unseen chrF", f"{unseen:.2f}", ">= 54", unseen >= 54),
        ("held-out BLEU", f"{held_out:.2f}", ">= 45", held_out >= 45),
    ]
    if peer_unseen is not None:
        rows.append(("unseen chrF - Apertium", f"{unseen - peer_unseen:+.2f}", "> 0", unseen > peer_unseen))
    return rows


def timed(systems: dict, sources: list[str]) -> dict[str, float]:
    """{system: sentences/s} over ``sources`` in one call each, after a short untimed warm-up."""
    speeds = {}
    for label, translate_all in systems.items():
        translate_all(sources[:50])
        _, seconds = translate_all(sources)
        speeds[label] = round(len(sources) / seconds, 1)
        print(f"  {label:24s} {speeds[label]:8.1f} sentences/s", flush=True)
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["assets/en-es"])
    parser.add_argument("--beams", nargs="+", type=int, default=[1, 5], help="1 = greedy")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/data/spa-eng/spa.txt"))
    parser.add_argument("--benchmark", default=str(ROOT.parent / "shared/data/tatoeba-test/eng-spa.tsv"))
    parser.add_argument("--phase", choices=["all", "quality", "speed"], default="all")
    parser.add_argument("--speed-sentences", type=int, default=2000, help="Tatoeba sentences timed per system")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for our models")
    parser.add_argument("--out", default=None, help="write the full report as JSON")
    args = parser.parse_args()

    import torch

    from model import Translator

    torch.set_num_threads(args.threads)
    sets = {n: p for n, p in standard_sets(args.corpus, args.benchmark).items() if n in SETS}
    systems = {}
    if apertium_available():
        systems["apertium"] = apertium_translate
    else:
        print(f"Apertium skipped: its eng-spa pair is not installed ({INSTALL})")
    for folder in args.models:
        translator = Translator.load(folder, device="cpu")  # int8, as shipped
        for beam in args.beams:
            label = f"{Path(folder).name} {'greedy' if beam == 1 else f'beam{beam}'}"
            systems[label] = lambda sources, t=translator, b=beam: translate(t, sources, b)

    report: dict = {"threads": args.threads, "results": {}, "founding": {}}
    if args.phase in ("all", "quality"):
        scorers = {name: SetScorer(pairs) for name, pairs in sets.items()}
        for label, translate_all in systems.items():
            report["results"][label] = {}
            for set_name, (texts, _) in system_translations(translate_all, sets).items():
                report["results"][label][set_name] = scorers[set_name].report(texts)
                print(line(label, set_name, report["results"][label][set_name]), flush=True)
            report["founding"][label] = translate_all([FOUNDING])[0][0]
        print(f"\nfounding example: {FOUNDING}")
        for label, text in report["founding"].items():
            print(f"  {label:24s} {text}")
        default = f"{Path(args.models[0]).name} greedy"
        if default in report["results"]:
            print()
            print_table(targets(report["results"][default], report["results"].get("apertium")))
    if args.phase in ("all", "speed"):
        sources = [en for en, _ in sets["tatoeba"][: args.speed_sentences]]
        print(f"\nsentences/s on the first {len(sources):,} Tatoeba sentences ({args.threads} torch thread(s)):")
        report["sentences_per_s"] = timed(systems, sources)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
