"""model/train.py and model/distill.py: smoke training, resuming, continuing, distillation."""

from __future__ import annotations

import json

import pytest
import torch

from model import Translator


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
    from model.distill import distilled_pairs, teacher_translations
    from model.train import prepare_data

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


def test_two_teachers_keep_per_sentence_the_translation_closer_to_the_reference(tiny_corpus, tiny_model, tmp_path):
    """--distill-also: a second teacher's translations, cached apart, and a per-sentence choice by chrF."""
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.distill import closer_to_reference, distilled_pairs
    from model.train import prepare_data

    assert closer_to_reference(["el gato", "un perro"], ["el gato negro", "x"], ["el gato negro", "un perro"]) == [
        "el gato negro",
        "un perro",
    ]
    assert closer_to_reference(["igual"], ["igual"], ["otra"]) == ["igual"]  # a tie keeps the first teacher's
    settings = tiny_train_settings(tiny_corpus, tmp_path, distill_from=str(tiny_model), distill_also=str(tiny_model))
    config = TrainConfig(**settings)
    train = prepare_data(config)[2].train
    work = tmp_path / "run"
    work.mkdir()
    pairs = distilled_pairs(config, train, work)
    one_teacher = distilled_pairs(TrainConfig(**{**settings, "distill_also": ""}), train, work)
    assert pairs == one_teacher  # the same teacher twice: every choice is a tie
    assert (work / "distilled-also.json").is_file()
    with pytest.raises(ValueError, match="distill_from"):
        TrainConfig(**{**settings, "distill_from": ""})


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


def test_techniques_train_on_a_fixed_step_budget(tiny_corpus, tiny_model, tmp_path):
    """--concat-share, --subword-alpha and --coverage-weight together, stopped by --max-steps mid-epoch."""
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.train import fit

    settings = tiny_train_settings(tiny_corpus, tmp_path, max_epochs=5, final_beam=0, final_eval=False)
    techniques = dict(concat_share=0.3, subword_alpha=0.2, coverage_weight=0.1, max_steps=7)
    metrics = fit(TrainConfig(**settings, **techniques, init_from=str(tiny_model)))
    curves = metrics_curves(tmp_path / "model")
    assert curves[-1]["step"] == 7 and all(c["concatenated"] > 0 for c in curves)
    assert metrics["scores"] == {"greedy": {}} and metrics["config"]["concat_share"] == 0.3
    again = {**settings, **techniques, "final_eval": True, "resume": True}
    resumed = fit(TrainConfig(**again, init_from=str(tiny_model)))
    assert resumed["epochs"] == metrics["epochs"]  # the budget was spent: only the scores are added
    assert resumed["scores"]["greedy"]["test_split"]["overall"]["sentences"] > 0


def test_every_flag_has_help_text_from_its_config_field(capsys):
    import dataclasses

    import pytest

    from model.config import TrainConfig
    from model.train import parse_args

    assert all(f.metadata.get("help") for f in dataclasses.fields(TrainConfig))
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Concatenation augmentation: each epoch adds" in text and "--subword-alpha" in text
    assert parse_args(["--no-bf16", "--concat-share", "0.2"]).concat_share == 0.2
