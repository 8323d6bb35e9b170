"""Is a low-coverage word really missing from the translation? And how much attention parks on the source </s>?

    python bench/coverage.py [--model assets/en-es] [--out assets/results/coverage.json]   # ~3 min on 2 cores

1. Translates the English of the dev and test splits (the split training uses; each English sentence once)
   with the model as the page runs it (greedy, int8).
2. Labels every English content word (model/coverage.py's stop-word rule) as present or missing in the
   translation with Apertium's English->Spanish dictionary (Debian apertium-eng-spa, lt-proc):
   the word is analysed into its possible lemmas (all readings, no tagger) and each lemma looked up in the
   bilingual dictionary (all translations); every word of the translation is analysed into its Spanish lemmas
   and looked up the other way. The word is PRESENT when it appears spelled the same in the translation, or
   one of its Spanish translations equals a translation word or its lemma, or shares its first 5 letters with
   one (rápido ~ rápidamente), or one of the translation's words translates back to its English lemma; it is
   MISSING otherwise. Words the dictionary does not know (and that are not copied) are left out. A word is
   ANCHORED when one of its dictionary translations is in a reference translation the same way: the
   dictionary then fits the sentence, so fewer correct synonyms count as missing.
3. Chooses the coverage threshold with the best F1 on dev (anchored words), then measures on test, anchored
   and all judged words: precision (flagged words that are missing), recall (missing words that are flagged),
   each beside chance (a flag that ignores coverage and fires as often: precision = the base rate of missing
   words, recall = the flag rate), with 95% bootstrap intervals over sentences, and the AUC.
4. The same flag against bench/coverage_hand_labels.jsonl: 110 random test sentences whose content words were
   labelled by hand, without seeing coverage, as present, "wrong" (a Spanish word stands for it, with a wrong
   meaning) or "missing" (no Spanish word stands for it).
5. On the test split: the share of attention on the source </s> (mean per output step, and the share of steps
   where </s> gets the most weight), over all steps and over the steps that write a piece (not </s>).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import print_table  # noqa: E402
from model import Translator  # noqa: E402
from model.coverage import STOP_WORDS, content_key, word_coverage  # noqa: E402
from model.data import read_pairs, split_by_english  # noqa: E402
from model.evaluate import read_benchmark  # noqa: E402

APERTIUM = Path("/usr/share/apertium/apertium-eng-spa")
STREAM_RESERVED = re.compile(r"[\^$/<>\[\]\\@*{}#+~]")  # characters with a meaning in Apertium's stream format
UNIT = re.compile(r"\^(.*?)\$")
SPANISH_WORD = re.compile(r"\w+")
PREFIX = 5  # letters a dictionary translation and a translation word must share to count as the same word
THRESHOLDS = np.round(np.arange(0.05, 1.51, 0.05), 2)
BOOTSTRAP = 1000


def lt_proc(arguments: list[str], segments: list[str]) -> list[str]:
    """One lt-proc run in null-flush mode: one output segment per input segment."""
    data = "".join(segment + "\0" for segment in segments)
    run = subprocess.run(["lt-proc", "-z", *arguments], input=data, capture_output=True, text=True, check=True)
    outputs = run.stdout.split("\0")[: len(segments)]
    if len(outputs) != len(segments):
        raise RuntimeError(f"lt-proc answered {len(outputs)} segments for {len(segments)}")
    return outputs


@dataclass
class Lexicon:
    """Per word: its lemmas (own language) and their dictionary translations (other language), lower-case."""

    lemmas: dict[str, set[str]]
    translations: dict[str, set[str]]


def lemma_of(analysis: str) -> str:
    return analysis.split("<", 1)[0].replace("#", " ").lower().strip()


def look_up(words: list[str], direction: str, skip_unit=lambda surface: False) -> Lexicon:
    """Analyse each word alone (all readings) and translate every reading with the bilingual dictionary."""
    words = [w for w in words if not STREAM_RESERVED.search(w)]
    analysed = lt_proc([str(APERTIUM / f"{direction}.automorf.bin")], words)
    readings: list[list[str]] = []
    lemmas: dict[str, set[str]] = {}
    for word, output in zip(words, analysed):
        units = [unit.split("/") for unit in UNIT.findall(output)]
        known = [
            reading
            for surface, *rest in units
            if not skip_unit(surface)
            for reading in rest
            if not reading.startswith("*")
        ]
        readings.append(known)
        lemmas[word] = {lemma_of(r) for r in known}
    units = [" ".join(f"^{reading}$" for reading in known) for known in readings]
    translated = lt_proc(["-b", str(APERTIUM / f"{direction}.autobil.bin")], units)
    translations = {}
    for word, output in zip(words, translated):
        found = set()
        for unit in UNIT.findall(output):
            found |= {lemma_of(t) for t in unit.split("/")[1:] if not t.startswith("@")}
        translations[word] = found - {""}
    return Lexicon(lemmas, translations)


def clitic_or_stop(surface: str) -> bool:
    """Apertium splits "cat's" into "cat" and "'s"; the clitic's readings (be, genitive) would match anything."""
    return surface.startswith("'") or content_key(surface) in STOP_WORDS


def surface(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word).lower()


@dataclass
class Judged:
    sentence: int
    word: str
    coverage: float
    missing: bool
    anchored: bool = True


def matches(candidate: str, output_forms: set[str]) -> bool:
    """A dictionary translation (maybe several words: its longest word counts) found in the translation."""
    key = max(candidate.split(), key=len, default="")
    if not key:
        return False
    if key in output_forms:
        return True
    return len(key) >= PREFIX and any(form[:PREFIX] == key[:PREFIX] for form in output_forms if len(form) >= PREFIX)


def spanish_forms(text: str, lexicon: Lexicon) -> set[str]:
    """The words of a Spanish text, lower-case, with every lemma of every reading."""
    written = set(SPANISH_WORD.findall(text.lower()))
    return written | {lemma for w in written for lemma in lexicon.lemmas.get(w, ())}


def judge(english: list[str], references: list[list[str]], results, label_rows: list | None = None) -> list[Judged]:
    """Every content word of every sentence whose dictionary status is known: its coverage and missing/present.

    ``anchored``: one of the word's dictionary translations is in a reference translation, so the dictionary
    is known to fit this sentence (fewer words, fewer synonyms miscounted as missing).
    """
    words_per_sentence = []
    for result in results:
        words = [w for w in word_coverage(result.source_tokens, result.attention, None) if w.content]
        words_per_sentence.append(words)
    english_words = sorted({surface(w.word) for words in words_per_sentence for w in words} - {""})
    english_lexicon = look_up(english_words, "eng-spa", clitic_or_stop)
    spanish_texts = [r.text for r in results] + [ref for refs in references for ref in refs]
    spanish_words = sorted({w for text in spanish_texts for w in SPANISH_WORD.findall(text.lower())})
    spanish_lexicon = look_up(spanish_words, "spa-eng")
    judged = []
    for index, (result, words) in enumerate(zip(results, words_per_sentence)):
        written = set(SPANISH_WORD.findall(result.text.lower()))
        forms = spanish_forms(result.text, spanish_lexicon)
        reference_forms = set().union(*(spanish_forms(ref, spanish_lexicon) for ref in references[index]))
        back = {t for w in written for t in spanish_lexicon.translations.get(w, ())}
        for word in words:
            key = surface(word.word)
            translations = english_lexicon.translations.get(key, set())
            if key in written or any(part in written for part in key.split("'") if part.isdigit()):
                missing = False
            elif not translations:
                continue  # the dictionary cannot judge this word
            else:
                found = any(matches(c, forms) for c in translations)
                missing = not (found or english_lexicon.lemmas.get(key, set()) & back)
            anchored = key in reference_forms or any(matches(c, reference_forms) for c in translations)
            judged.append(Judged(index, word.word, word.coverage, missing, anchored))
            if label_rows is not None:
                label_rows.append({"english": english[index], "spanish": result.text, **judged[-1].__dict__})
    return judged


def hand_judged(translator, path: Path, count_wrong: bool = False) -> tuple[list[Judged], int]:
    """The hand-labelled sample: -> (its content words judged, sentences whose translation has changed since)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = translator.translate_batch([row["english"] for row in rows])
    judged, changed = [], 0
    for index, (row, result) in enumerate(zip(rows, results)):
        if result.text != row["spanish"]:
            changed += 1
            continue
        missing = set(row["missing"]) | (set(row["wrong"]) if count_wrong else set())
        for word in word_coverage(result.source_tokens, result.attention, None):
            if word.content:
                judged.append(Judged(index, word.word, word.coverage, word.word in missing))
    return judged, changed


def flag_scores(judged: list[Judged], threshold: float) -> dict:
    flagged = np.array([j.coverage < threshold for j in judged])
    missing = np.array([j.missing for j in judged])
    hits = int((flagged & missing).sum())
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / missing.sum() if missing.any() else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "threshold": float(threshold),
        "words": len(judged),
        "missing": int(missing.sum()),
        "flagged": int(flagged.sum()),
        "flagged_and_missing": hits,
        "base_rate": float(missing.mean()),
        "flag_rate": float(flagged.mean()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }


def area_under_curve(judged: list[Judged]) -> float:
    """P(a missing word has lower coverage than a present one): 0.5 = coverage says nothing (ties count half)."""
    missing = np.array([j.coverage for j in judged if j.missing])
    present = np.array([j.coverage for j in judged if not j.missing])
    if not len(missing) or not len(present):
        return float("nan")
    lower = (missing[:, None] < present[None, :]).mean()
    ties = (missing[:, None] == present[None, :]).mean()
    return float(lower + ties / 2)


def bootstrap(judged: list[Judged], threshold: float, seed: int = 0) -> dict:
    """95% intervals of precision and recall, and of their margins over chance, resampling sentences."""
    by_sentence: dict[int, list[Judged]] = {}
    for j in judged:
        by_sentence.setdefault(j.sentence, []).append(j)
    groups = list(by_sentence.values())
    rng = np.random.default_rng(seed)
    samples = {"precision": [], "recall": [], "precision_minus_base_rate": [], "recall_minus_flag_rate": []}
    for _ in range(BOOTSTRAP):
        drawn = [j for i in rng.integers(0, len(groups), len(groups)) for j in groups[i]]
        scores = flag_scores(drawn, threshold)
        samples["precision"].append(scores["precision"])
        samples["recall"].append(scores["recall"])
        samples["precision_minus_base_rate"].append(scores["precision"] - scores["base_rate"])
        samples["recall_minus_flag_rate"].append(scores["recall"] - scores["flag_rate"])
    return {name: [round(float(np.nanpercentile(v, q)), 4) for q in (2.5, 97.5)] for name, v in samples.items()}


def end_marker_share(results) -> dict:
    """Attention on the source </s> (its last column) per output step, over all steps and over word steps."""
    on_end, argmax_end, on_end_words, argmax_end_words = [], [], [], []
    for result in results:
        attention = result.attention
        if attention is None or not attention.size:
            continue
        last = attention[:, -1]
        top = attention.argmax(axis=1) == attention.shape[1] - 1
        on_end += last.tolist()
        argmax_end += top.tolist()
        writes_word = np.array([t != "</s>" for t in result.target_tokens])
        on_end_words += last[writes_word].tolist()
        argmax_end_words += top[writes_word].tolist()
    return {
        "steps": len(on_end),
        "mean_attention_on_end": round(float(np.mean(on_end)), 4),
        "share_of_steps_end_strongest": round(float(np.mean(argmax_end)), 4),
        "steps_writing_a_piece": len(on_end_words),
        "mean_attention_on_end_writing_a_piece": round(float(np.mean(on_end_words)), 4),
        "share_end_strongest_writing_a_piece": round(float(np.mean(argmax_end_words)), 4),
    }


def flag_rows(scores: dict, name: str) -> list[tuple]:
    """The table rows of one evaluation: counts, precision and recall beside chance, AUC."""
    ci = scores["intervals"]
    beats_chance = ci["precision_minus_base_rate"][0] > 0
    return [
        (f"{name}: words/missing/flagged", f"{scores['words']}/{scores['missing']}/{scores['flagged']}", "", None),
        (f"{name}: precision", f"{scores['precision']:.3f}", f"> chance {scores['base_rate']:.3f}", beats_chance),
        ("  95% interval", f"{ci['precision'][0]:.3f}-{ci['precision'][1]:.3f}", "", None),
        (
            f"{name}: recall",
            f"{scores['recall']:.3f}",
            f"> chance {scores['flag_rate']:.3f}",
            ci["recall_minus_flag_rate"][0] > 0,
        ),
        ("  95% interval", f"{ci['recall'][0]:.3f}-{ci['recall'][1]:.3f}", "", None),
        (f"{name}: AUC", f"{scores['auc']:.3f}", "> 0.5", scores["auc"] > 0.5),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "assets/en-es"))
    parser.add_argument("--corpus", default=str(ROOT / "../shared/data/spa-eng/spa.txt"))
    parser.add_argument("--benchmark", default=str(ROOT / "../shared/data/tatoeba-test/eng-spa.tsv"))
    parser.add_argument("--out", default=str(ROOT / "assets/results/coverage.json"))
    parser.add_argument("--hand-labels", default=str(ROOT / "bench/coverage_hand_labels.jsonl"))
    parser.add_argument("--labels", help="also write every word the dictionary judged (JSON lines) here")
    args = parser.parse_args(argv)

    pairs = read_pairs(args.corpus).pairs
    benchmark = {en for en, _ in read_benchmark(args.benchmark)}
    split = split_by_english(pairs, 0.02, 0.02, benchmark)  # model/config.py's dev and test fractions
    translator = Translator.load(args.model, device="cpu")
    report = {"model": Path(args.model).name, "decoding": "greedy", "int8": translator.int8}
    judged, results = {}, {}
    label_rows: list | None = [] if args.labels else None
    for name, part in (("dev", split.dev), ("test", split.test)):
        references: dict[str, list[str]] = {}
        for en, es in part:
            references.setdefault(en, []).append(es)
        english = list(references)
        results[name] = translator.translate_batch(english)
        everything = judge(english, list(references.values()), results[name], label_rows if name == "test" else None)
        judged[name] = [j for j in everything if j.anchored]
        judged[f"{name}_unanchored"] = everything
        report[f"{name}_sentences"] = len(english)
    dev_scores = [flag_scores(judged["dev"], t) for t in THRESHOLDS]
    chosen = max(dev_scores, key=lambda s: s["f1"])
    report["dev_choice"] = chosen
    report["dev_curve"] = [{k: round(v, 4) for k, v in s.items()} for s in dev_scores]
    for name in ("test", "test_unanchored"):
        scores = flag_scores(judged[name], chosen["threshold"])
        intervals = bootstrap(judged[name], chosen["threshold"])
        report[name] = {**scores, "intervals": intervals, "auc": area_under_curve(judged[name])}
    report["auc_dev"] = area_under_curve(judged["dev"])
    for name, count_wrong in (("hand_missing", False), ("hand_missing_or_wrong", True)):
        hand, changed = hand_judged(translator, Path(args.hand_labels), count_wrong)
        report[name] = {
            **flag_scores(hand, chosen["threshold"]),
            "intervals": bootstrap(hand, chosen["threshold"]),
            "auc": area_under_curve(hand),
            "sentences_changed_since_labelling": changed,
        }
    report["end_marker_test"] = end_marker_share(results["test"])
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    if args.labels:
        Path(args.labels).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in label_rows))

    end = report["end_marker_test"]
    print(f"threshold chosen on dev (best F1 {chosen['f1']:.3f}): {chosen['threshold']}")
    print_table(
        [
            *flag_rows(report["test"], "dictionary, anchored"),
            *flag_rows(report["test_unanchored"], "dictionary, all"),
            *flag_rows(report["hand_missing"], "hand: missing"),
            *flag_rows(report["hand_missing_or_wrong"], "hand: missing or wrong"),
            ("</s> mean attention per step", f"{end['mean_attention_on_end']:.3f}", "", None),
            ("</s> strongest: share of steps", f"{end['share_of_steps_end_strongest']:.3f}", "", None),
        ]
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
