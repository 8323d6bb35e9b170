"""Data, tokenizer, smoke training and the public Translator interface."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, SHIPPED, synthetic_pairs

from model import Translation, Translator
from model.data import normalize, read_pairs, split_by_english
from model.tokenizer import Tokenizer, train_sentencepiece


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


def test_tokenizer_round_trip(tmp_path):
    sentences = [es for _, es in synthetic_pairs()]
    train_sentencepiece(sentences, 60, tmp_path / "es.model")
    tokenizer = Tokenizer(tmp_path / "es.model")
    for text in ["Nosotros vemos el perro grande.", "Ellos tienen un libro rojo.", ""]:
        assert tokenizer.decode(tokenizer.encode(text)) == text
    assert 1 in tokenizer.encode("漢字")  # unknown characters map to unk


def test_smoke_training_learns_the_synthetic_grammar(tiny_model, tiny_translator):
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["data"]["train"] > 40 and metrics["corpus_sha256"]
    assert metrics["scores"]["greedy"]["test_split"]["overall"]["bleu"] > 30
    assert metrics["scores_int8"]["greedy"]["test_split"]["overall"]["sentences"] > 0
    assert {"model.safetensors", "config.json", "en.model", "es.model", "curves.json"} <= {
        p.name for p in tiny_model.iterdir()
    }
    assert tiny_translator.translate("We have the dog.").text == "Nosotros tenemos el perro."


def test_training_resumes_from_its_last_epoch(tiny_corpus, tmp_path):
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.train import fit

    settings = tiny_train_settings(tiny_corpus, tmp_path, max_epochs=2, final_beam=0)
    fit(TrainConfig(**settings))
    metrics = fit(TrainConfig(**{**settings, "max_epochs": 3, "resume": True}))
    curves = json.loads((tmp_path / "model" / "curves.json").read_text())
    assert [c["epoch"] for c in curves] == [1, 2, 3] and metrics["epochs"] == 3
    assert [entry["after_epoch"] for entry in metrics["run_history"]] == [0, 2]  # both invocations recorded


def test_continuing_a_model_keeps_its_tokenizer_and_can_ship_an_average(tiny_corpus, tiny_model, tmp_path):
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.train import fit

    settings = tiny_train_settings(tiny_corpus, tmp_path, max_epochs=3, final_beam=0, lr=1e-3, embed_dim=8)
    metrics = fit(TrainConfig(**settings, init_from=str(tiny_model), average_last=3))
    folder = tmp_path / "model"
    before_config = json.loads((tiny_model / "config.json").read_text())["model"]
    assert json.loads((folder / "config.json").read_text())["model"]["output_pieces"] == before_config["output_pieces"]
    for name in ("en.model", "es.model"):  # the same ids as the model it continued
        assert (folder / name).read_bytes() == (tiny_model / name).read_bytes()
    assert json.loads((folder / "config.json").read_text())["model"]["embed_dim"] == 32  # not the flag's 8
    assert metrics["started_from"]["init_from"] == str(tiny_model) and metrics["started_from"]["dev_bleu"] > 30
    assert metrics["averaged"]["epochs"] == [1, 2, 3]
    before = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["epochs_total"] == before["epochs"] + 3
    assert metrics["training_minutes_total"] >= before["training_minutes"]
    best_single = max([metrics["started_from"]["dev_bleu"]] + [c["dev_bleu"] for c in metrics_curves(folder)])
    assert metrics["best_dev_bleu"] == max(best_single, metrics["averaged"]["dev_bleu"])
    assert sorted(p.name for p in (tmp_path / "run").glob("epoch-*.pt")) == ["epoch-1.pt", "epoch-2.pt", "epoch-3.pt"]


def test_seen_output_only_converts_a_model_that_scored_every_piece(tiny_corpus, tmp_path):
    """--init-from with --seen-output-only and no epochs: the same weights, an output layer for the seen pieces."""
    from conftest import tiny_train_settings

    from model.checkpoint import load_model
    from model.config import TrainConfig
    from model.train import fit

    full = tiny_train_settings(tiny_corpus, tmp_path / "full", max_epochs=4, final_beam=0, seen_output_only=False)
    fit(TrainConfig(**full))
    start = tmp_path / "full" / "model"
    settings = tiny_train_settings(tiny_corpus, tmp_path / "restricted", max_epochs=0, final_beam=0)
    metrics = fit(TrainConfig(**settings, init_from=str(start)))
    before, after = load_model(start)[0], load_model(tmp_path / "restricted" / "model")[0]
    assert before.config.output_pieces == 0 and 0 < after.config.output_pieces < after.config.tgt_vocab_size
    for name, tensor in before.state_dict().items():  # nothing trained
        assert torch.equal(tensor, after.state_dict()[name])
    assert metrics["epochs"] == 0 and metrics["train_tokens_per_s"] is None and metrics["best_epoch"] == 0
    assert metrics["started_from"]["dev_bleu"] == metrics["best_dev_bleu"]


def test_distilling_trains_on_the_teachers_translations(tiny_corpus, tiny_model, tmp_path):
    """--distill-from: the training targets are the teacher's greedy translations, cached; dev keeps the references."""
    from conftest import tiny_train_settings

    from model import Translator
    from model.config import TrainConfig
    from model.train import fit, prepare_data

    settings = tiny_train_settings(tiny_corpus, tmp_path, max_epochs=1, final_beam=0, decoder_hidden=32)
    config = TrainConfig(**settings, distill_from=str(tiny_model))
    metrics = fit(config)
    cache = json.loads((tmp_path / "run" / "distilled.json").read_text())
    english = [en for en, _ in prepare_data(config)[2].train]
    teacher = Translator.load(tiny_model, device="cpu")
    assert cache["spanish"] == [t.text for t in teacher.translate_batch(english)]
    assert metrics["data"]["distilled_train"] == sum(1 for es in cache["spanish"] if es) > 0
    for name in ("en.model", "es.model"):  # the teacher's tokenizer, not a new one
        assert (tmp_path / "model" / name).read_bytes() == (tiny_model / name).read_bytes()
    assert json.loads((tmp_path / "model" / "config.json").read_text())["model"]["decoder_hidden"] == 32
    cache_path = tmp_path / "run" / "distilled.json"
    written = cache_path.stat().st_mtime_ns
    fit(TrainConfig(**{**settings, "max_epochs": 2, "resume": True}, distill_from=str(tiny_model)))
    assert cache_path.stat().st_mtime_ns == written  # a resumed run reads the cache back instead of translating


def test_beam_distillation_uses_the_teachers_beam_translations_in_worker_processes(tiny_corpus, tiny_model, tmp_path):
    """--distill-beam: one worker process per thread, translations in corpus order, a cache of their own."""
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.train import distilled_pairs, prepare_data, teacher_translations

    settings = tiny_train_settings(tiny_corpus, tmp_path, threads=2, distill_from=str(tiny_model), distill_beam=3)
    config = TrainConfig(**settings)
    train = prepare_data(config)[2].train
    english = [en for en, _ in train]
    teacher = Translator.load(tiny_model, device="cpu")
    expected = [t.text for t in teacher.translate_batch(english, beam_size=3)]
    assert teacher_translations(config, english, chunk_size=len(english) // 3) == expected
    work = tmp_path / "run"
    work.mkdir()
    pairs = distilled_pairs(config, train, work)
    assert [es for _, es in pairs] == [es for es in expected if es]
    beam_key = json.loads((work / "distilled.json").read_text())["key"]
    distilled_pairs(TrainConfig(**{**settings, "distill_beam": 1}), train, work)
    assert json.loads((work / "distilled.json").read_text())["key"] != beam_key  # the beam size is in the key


def test_distill_beam_must_be_positive():
    from model.config import TrainConfig

    with pytest.raises(ValueError, match="distill_beam"):
        TrainConfig(distill_beam=0)


def metrics_curves(folder):
    return json.loads((folder / "curves.json").read_text())


def test_joint_vocabulary_shares_one_embedding_through_save_and_load(tiny_corpus, tmp_path):
    from conftest import tiny_train_settings

    from model import Translator
    from model.config import TrainConfig
    from model.train import fit

    fit(TrainConfig(**tiny_train_settings(tiny_corpus, tmp_path, joint_vocab=True, max_epochs=2, final_beam=0)))
    folder = tmp_path / "model"
    assert "spm.model" in {p.name for p in folder.iterdir()}
    config = json.loads((folder / "config.json").read_text())
    assert config["source_spm"] == config["target_spm"] == "spm.model" and config["model"]["shared_embeddings"]
    model = Translator.load(folder, device="cpu").inference.model
    assert model.encoder.embedding.weight is model.decoder.embedding.weight is model.decoder.output.weight


def check_translation(result: Translation) -> None:
    rows, columns = len(result.target_tokens), len(result.source_tokens)
    assert result.attention.shape == result.scores.shape == (rows, columns)
    assert len(result.steps) == rows
    if rows:
        np.testing.assert_allclose(result.attention.sum(axis=1), 1.0, rtol=1e-4)


def test_public_interface(tiny_translator, tiny_translator_exact):
    result = tiny_translator.translate("I see the big cat.", beam_size=1)
    check_translation(result)
    assert result.source_tokens[-1] == "</s>" and result.target_tokens[-1] == "</s>"
    assert all(len(step) == 5 and step[0][1] >= step[-1][1] for step in result.steps)
    beam = tiny_translator.translate("I see the big cat.", beam_size=4)
    check_translation(beam)
    batch = tiny_translator_exact.translate_batch(["They have a red house.", "", "We see the book."], beam_size=1)
    assert [r.text for r in batch][1] == ""
    assert batch[0].text == tiny_translator_exact.translate("They have a red house.").text
    assert tiny_translator.int8 and not tiny_translator_exact.int8
    json.dumps(result.to_dict())


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "\x00", "<b>x</b>", "🙂🙂", "مرحبا بالعالم", "e\u0301\u0301", "?!..."]
)
def test_bad_input_never_raises(tiny_translator, text):
    result = tiny_translator.translate(text, beam_size=3)
    check_translation(result)
    if not text.strip() or text == "\x00":
        assert result.text == "" and result.target_tokens == []


@pytest.mark.parametrize("max_length", [-3, 0, 1, 2])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_any_length_limit_is_safe(tiny_translator, max_length, beam_size):
    result = tiny_translator.translate("I see the cat.", beam_size=beam_size, max_length=max_length)
    check_translation(result)
    assert len(result.target_tokens) <= max(max_length, 1) or max_length == 0  # 0 means "the default"


def test_long_input_is_truncated_and_says_so(tiny_translator):
    result = tiny_translator.translate("I see the cat. " * 200)
    assert result.truncated and "truncated" in result.notes[0]
    assert len(result.source_tokens) == tiny_translator.max_input_tokens + 1
    check_translation(result)


def test_cli_plain_and_json(tiny_model):
    run = subprocess.run(
        [sys.executable, "-m", "model.translate", "--model", str(tiny_model), "--json"],
        input="I see the cat.\n\nWe have a house.\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 3 and lines[1]["translation"] == ""
    assert len(lines[0]["attention"]) == len(lines[0]["target_tokens"])
    plain = subprocess.run(
        [sys.executable, "-m", "model.translate", "--model", str(tiny_model), "--beam", "3"],
        input="I see the cat.\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert plain.stdout.strip() == lines[0]["translation"]


def test_cli_broken_model_folder_exits_with_message(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "model.translate", "--model", str(tmp_path / "nowhere")],
        input="Hi.\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 2 and "model folder not found" in run.stderr


def test_shipped_model_translates_lets_go(shipped):
    result = shipped.translate("Let's go.")
    assert result.text in {"Vamos.", "Vayamos.", "¡Vamos!", "Vámonos."}
    assert shipped.config.attention == "cosine"
    check_translation(result)


def test_the_larger_teacher_model_ships_complete():
    """assets/en-es-large: the larger model the default one was distilled from (README, Results)."""
    folder = ROOT / "assets" / "en-es-large"
    large = Translator.load(folder, device="cpu")
    assert large.translate("Let's go.").text in {"Vamos.", "Vayamos.", "¡Vamos!", "Vámonos."}
    assert large.config.decoder_hidden > Translator.load(device="cpu").config.decoder_hidden
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 25 * 1024 * 1024
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["scores_int8"]["greedy"]["tatoeba"]["overall"]["bleu"] >= 30
    default = json.loads((SHIPPED / "config.json").read_text())
    teacher = json.loads((folder / "config.json").read_text())
    assert teacher["weights_sha256"] in json.loads((SHIPPED / "metrics.json").read_text())["commit_note"]
    assert default["model"]["output_pieces"] < teacher["model"]["output_pieces"]


def test_shipped_model_size_and_metrics():
    total = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert total <= 25 * 1024 * 1024
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    for key in ("corpus_sha256", "command", "commit", "hardware", "parameters", "data"):
        assert metrics[key]
    assert metrics.get("training_minutes_total") or metrics["training_minutes"]  # a continued model: its lineage
    assert metrics["scores"]["greedy"]["tatoeba"]["overall"]["bleu"] >= 30
    assert metrics["config"]["distill_from"] and metrics["config"]["distill_beam"] == 5  # README, Results
