"""The shipped model format: a folder that loads with nothing else.

    config.json        {"model": ModelConfig, "weights_sha256": ..., "source_spm": ..., "target_spm": ...}
    model.safetensors  the weights (no pickle), float16 to stay small; loaded as float32 (integer buffers as is)
    *.model            SentencePiece model(s)
    metrics.json       how the weights were made (not needed to load)

Every failure to load raises ``ModelLoadError`` naming the file and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import ModelConfig
from .files import sha256_of
from .seq2seq import Seq2Seq
from .tokenizer import Tokenizer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "en-es"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
REFETCH = "restore it from the repository (git checkout / git lfs pull) or retrain with python -m model.train"


class ModelLoadError(RuntimeError):
    """The model folder is missing a file or holds a broken one."""


def save_model(model: Seq2Seq, folder: Path, source_spm: str, target_spm: str, fp16: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if fp16 else torch.float32
    # Tied weights share storage; safetensors wants each tensor once, so keep the first name.
    tensors, seen = {}, set()
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        tensors[name] = tensor.detach().to("cpu", dtype if tensor.is_floating_point() else None).contiguous()
    save_file(tensors, str(folder / WEIGHTS))
    config = {
        "model": model.config.to_dict(),
        "weights_sha256": sha256_of(folder / WEIGHTS),
        "source_spm": source_spm,
        "target_spm": target_spm,
    }
    (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n")


def _read_config(folder: Path) -> dict:
    path = folder / CONFIG
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing. The model folder needs config.json; {REFETCH}.")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        config["model"] = ModelConfig.from_dict(config["model"])
        return config
    except (ValueError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{path}: unreadable or does not describe this model ({error}); {REFETCH}.") from error


def _load_tokenizer(folder: Path, name: str, expected_size: int) -> Tokenizer:
    path = folder / name
    if not path.is_file():
        raise ModelLoadError(f"{path}: SentencePiece model missing; {REFETCH}.")
    try:
        tokenizer = Tokenizer(path)
    except (OSError, RuntimeError, ValueError) as error:
        raise ModelLoadError(f"{path}: not a usable SentencePiece model ({error}); {REFETCH}.") from error
    if len(tokenizer) != expected_size:
        raise ModelLoadError(
            f"{path}: vocabulary has {len(tokenizer)} pieces but {folder / CONFIG} expects {expected_size}; "
            f"the tokenizer and the weights come from different trainings; {REFETCH}."
        )
    return tokenizer


def _load_weights(folder: Path, config: dict) -> Seq2Seq:
    path = folder / WEIGHTS
    if not path.is_file():
        raise ModelLoadError(f"{path}: weights missing; {REFETCH}.")
    expected = config.get("weights_sha256")
    if expected and sha256_of(path) != expected:
        raise ModelLoadError(
            f"{path}: checksum does not match config.json (truncated, corrupted, or a Git LFS pointer); {REFETCH}."
        )
    # Built on the CPU and initialised at random (40 ms) before the file overwrites it: building on the "meta"
    # device instead would skip that, but its first use imports torch._dynamo, 1.1 s of start-up.
    model = Seq2Seq(config["model"])
    try:
        tensors = load_file(str(path))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, strict=False)
    except (SafetensorError, RuntimeError, OSError) as error:
        raise ModelLoadError(f"{path}: does not fit {folder / CONFIG} ({str(error)[:300]}); {REFETCH}.") from error
    missing = _missing_tensors(model, tensors)
    if missing:
        raise ModelLoadError(f"{path}: lacks tensors {missing[:5]} that {folder / CONFIG} needs; {REFETCH}.")
    return model


def _missing_tensors(model: Seq2Seq, tensors: dict) -> list[str]:
    """Names the model needs that the file lacks (a tied weight is stored under one name)."""
    state = model.state_dict(keep_vars=True)
    present = {id(t) for name, t in state.items() if name in tensors}
    return [name for name, t in state.items() if id(t) not in present]


def read_tokenizer_names(folder: Path) -> tuple[str, str]:
    """The SentencePiece file names (source, target) a model folder's config.json names."""
    config = _read_config(folder)
    return config.get("source_spm", "spm.model"), config.get("target_spm", "spm.model")


def load_model(folder: str | Path) -> tuple[Seq2Seq, Tokenizer, Tokenizer, dict]:
    """-> model (eval mode, CPU, float32), source and target tokenizers, raw config."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"{folder}: model folder not found; {REFETCH}.")
    config = _read_config(folder)
    model_config: ModelConfig = config["model"]
    source = _load_tokenizer(folder, config.get("source_spm", "spm.model"), model_config.src_vocab_size)
    target = _load_tokenizer(folder, config.get("target_spm", "spm.model"), model_config.tgt_vocab_size)
    model = _load_weights(folder, config)
    return model.eval(), source, target, config
