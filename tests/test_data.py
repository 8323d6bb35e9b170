"""model/data.py: reading, normalizing and splitting the corpus."""

from __future__ import annotations

from conftest import synthetic_pairs

from model.data import normalize, read_pairs, split_by_english


def test_reader_skips_and_counts_bad_lines_and_accepts_attribution_column(tiny_corpus):
    corpus = read_pairs(tiny_corpus)
    assert len(corpus.pairs) == len(synthetic_pairs())
    assert corpus.skipped == {"no tab": 1, "empty side": 2, "over-long": 1}
    assert corpus.duplicates == 1
    assert all("\t" not in en and "Attribution" not in es for en, es in corpus.pairs)


def test_normalize_nfc_and_whitespace():
    assert normalize("  Me\u0301jico \t es\n grande ") == "Méjico es grande"


def test_split_is_english_disjoint_and_excludes_benchmark():
    pairs = [(f"Sentence {i % 300}.", f"Frase {i}.") for i in range(900)]
    benchmark = {"Sentence 7.", "Sentence 8."}
    split = split_by_english(pairs, 0.1, 0.1, benchmark)
    english = [{en for en, _ in part} for part in (split.train, split.dev, split.test)]
    assert not (english[0] & english[1] or english[0] & english[2] or english[1] & english[2])
    assert not (english[0] | english[1]) & benchmark
    assert split.excluded_benchmark > 0
    assert split_by_english(pairs, 0.1, 0.1, benchmark).test == split.test  # deterministic


def test_reader_counts_undecodable_bytes_and_repairs_mojibake(tmp_path):
    path = tmp_path / "odd.txt"
    lines = [
        b"I sing.\tCanto.",
        "A song.\tUna canciÃ³n.".encode(),  # UTF-8 once read as Windows-1252
        b"Broken.\tRoto \xff\xfe.",  # bytes that are not UTF-8
        b"\t",
        ("Long. " * 80 + "\tLargo.").encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    corpus = read_pairs(path)
    assert corpus.pairs == [("I sing.", "Canto."), ("A song.", "Una canción.")]
    assert corpus.skipped == {
        "undecodable bytes": 1,
        "mojibake repaired (kept)": 1,
        "empty side": 1,
        "over-long": 1,
    }
