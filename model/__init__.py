"""English -> Spanish LSTM encoder-decoder with attention, and everything to explain it."""

from .checkpoint import ModelLoadError
from .translator import Translation, Translator

__all__ = ["ModelLoadError", "Translation", "Translator"]
