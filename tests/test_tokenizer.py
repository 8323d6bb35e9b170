"""model/tokenizer.py: SentencePiece training and round trips."""

from __future__ import annotations

from conftest import synthetic_pairs

from model.tokenizer import Tokenizer, train_sentencepiece


def test_tokenizer_round_trip(tmp_path):
    sentences = [es for _, es in synthetic_pairs()]
    train_sentencepiece(sentences, 60, tmp_path / "es.model")
    tokenizer = Tokenizer(tmp_path / "es.model")
    for text in ["Nosotros vemos el perro grande.", "Ellos tienen un libro rojo.", ""]:
        assert tokenizer.decode(tokenizer.encode(text)) == text
    assert 1 in tokenizer.encode("漢字")  # unknown characters map to unk
