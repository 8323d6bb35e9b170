"""model/config.py: configs reject unknown keys and bad values."""

from __future__ import annotations

import pytest

from model.config import ModelConfig


def test_config_rejects_unknown_keys_and_bad_attention():
    with pytest.raises(ValueError, match="unknown ModelConfig keys: hiden"):
        ModelConfig.from_dict({"hiden": 3})
    with pytest.raises(ValueError, match="attention must be one of"):
        ModelConfig(attention="magic")
    with pytest.raises(ValueError, match="shared_embeddings needs one vocabulary"):
        ModelConfig(src_vocab_size=100, tgt_vocab_size=120, shared_embeddings=True)


def test_distill_beam_must_be_positive():
    from model.config import TrainConfig

    with pytest.raises(ValueError, match="distill_beam"):
        TrainConfig(distill_beam=0)
