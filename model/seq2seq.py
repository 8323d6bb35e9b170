"""The encoder-decoder: ties the encoder, the decoder and the checkpoint format together."""

from __future__ import annotations

from torch import Tensor, nn

from .config import ModelConfig
from .decoder import Decoder, DecoderOutput, Memory
from .encoder import Encoder, State


class Seq2Seq(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        if config.shared_embeddings:
            self.encoder.embedding.weight = self.decoder.embedding.weight

    def encode(self, src: Tensor, lengths: Tensor) -> tuple[Memory, State]:
        """src (B, S), lengths (B,) -> attention memory and the decoder's initial state."""
        outputs, state = self.encoder(src, lengths)
        return self.decoder.memory(outputs, src != self.config.pad_id), state

    def forward(self, src: Tensor, lengths: Tensor, prev_tokens: Tensor) -> DecoderOutput:
        """Teacher forcing: prev_tokens (B, T) = BOS + target[:-1]; logits (B, T, V)."""
        memory, state = self.encode(src, lengths)
        return self.decoder(prev_tokens, state, memory)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
