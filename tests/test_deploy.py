"""Broken deploys fail fast with one clear message naming the file and what to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model import ModelLoadError, Translator


@pytest.fixture
def copy_of(tiny_model, tmp_path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    return folder


def load_error(folder: Path) -> str:
    with pytest.raises(ModelLoadError) as error:
        Translator.load(folder, device="cpu")
    message = str(error.value)
    assert "retrain" in message or "restore" in message  # always says what to do
    return message


def test_missing_weights(copy_of):
    (copy_of / "model.safetensors").unlink()
    assert "model.safetensors: weights missing" in load_error(copy_of)


def test_truncated_weights(copy_of):
    weights = copy_of / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    assert "model.safetensors: checksum does not match" in load_error(copy_of)


def test_corrupted_weights(copy_of):
    weights = copy_of / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10:] = b"\xff" * 10
    weights.write_bytes(bytes(data))
    assert "checksum does not match" in load_error(copy_of)


def test_git_lfs_pointer_instead_of_weights(copy_of):
    (copy_of / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    assert "Git LFS pointer" in load_error(copy_of)


def test_unreadable_weights_without_checksum(copy_of):
    config = json.loads((copy_of / "config.json").read_text())
    config.pop("weights_sha256")
    (copy_of / "config.json").write_text(json.dumps(config))
    (copy_of / "model.safetensors").write_bytes(b"not a safetensors file at all")
    assert "model.safetensors: does not fit" in load_error(copy_of)


def tokenizer_names(folder) -> tuple[str, str]:
    """The source and target SentencePiece files config.json names (one file when the vocabulary is joint)."""
    config = json.loads((folder / "config.json").read_text())
    return config["source_spm"], config["target_spm"]


def test_missing_sentencepiece_model(copy_of):
    target = tokenizer_names(copy_of)[1]
    (copy_of / target).unlink()
    assert f"{target}: SentencePiece model missing" in load_error(copy_of)


def test_garbage_sentencepiece_model(copy_of):
    source = tokenizer_names(copy_of)[0]
    (copy_of / source).write_bytes(b"garbage")
    assert f"{source}: not a usable SentencePiece model" in load_error(copy_of)


def test_config_that_does_not_match_the_weights(copy_of):
    config = json.loads((copy_of / "config.json").read_text())
    config["model"]["decoder_hidden"] *= 2
    (copy_of / "config.json").write_text(json.dumps(config))
    assert "model.safetensors: does not fit" in load_error(copy_of)


def test_tokenizer_vocabulary_differs_from_model(copy_of, tmp_path):
    config = json.loads((copy_of / "config.json").read_text())
    for key in ("src_vocab_size", "tgt_vocab_size"):  # as if the tokenizer came from another training
        config["model"][key] += 7
    (copy_of / "config.json").write_text(json.dumps(config))
    assert "vocabulary has" in load_error(copy_of)


def test_missing_or_invalid_config(copy_of):
    (copy_of / "config.json").write_text("{not json")
    assert "config.json: unreadable" in load_error(copy_of)
    (copy_of / "config.json").write_text(json.dumps({"model": {"layers": 3}}))
    assert "unknown ModelConfig keys: layers" in load_error(copy_of)
    (copy_of / "config.json").unlink()
    assert "config.json: missing" in load_error(copy_of)


def test_missing_folder(tmp_path):
    assert "model folder not found" in load_error(tmp_path / "absent")


def test_importing_the_app_with_a_broken_model_exits_nothing(tmp_path):
    """Spaces and `gradio app.py` import app.py: a broken model leaves demo None and the message for main()."""
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "TRANSLATOR_MODEL_DIR": str(tmp_path / "absent"), "GRADIO_ANALYTICS_ENABLED": "False"}
    probe = "import app; print(app.demo is None, '|', app.LOAD_ERROR)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True |") and "model folder not found" in result.stdout
