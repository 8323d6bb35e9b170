"""Concatenation augmentation: synthetic long training pairs (issue 16).

The corpus is mostly short sentences, so the model rarely practises keeping track of a long source. Joining
2-3 training pairs on both sides (English with English, Spanish with Spanish, in the same order) makes long pairs
whose translation is known to be complete: a model that drops the second half of one is penalised for it
(Nguyen et al. 2021, "Data augmentation by concatenation for low-resource translation"; Kondo et al. 2021).
New random groups are drawn each epoch, so no synthetic pair is seen twice.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from .data import Pair


@dataclass
class Augmented:
    pairs: list[Pair]  # the synthetic pairs only
    skipped: Counter = field(default_factory=Counter)  # reason -> number of candidate joins left out


def concatenated_pairs(
    pairs: list[Pair], share: float, rng: random.Random, max_chars: int, parts: tuple[int, int] = (2, 3)
) -> Augmented:
    """About ``share * len(pairs)`` synthetic pairs, each joining ``parts[0]``..``parts[1]`` random ``pairs``.

    A pair with an empty side is never joined, and a join longer than ``max_chars`` on either side is left out
    (the model would truncate it): both are counted in ``skipped``, never fatal.
    """
    usable = [(en, es) for en, es in pairs if en.strip() and es.strip()]
    augmented = Augmented(pairs=[])
    if len(usable) < len(pairs):
        augmented.skipped["empty side"] += len(pairs) - len(usable)
    wanted = round(share * len(pairs)) if len(usable) >= parts[0] else 0
    for _ in range(wanted):
        group = rng.sample(usable, rng.randint(parts[0], min(parts[1], len(usable))))
        en, es = (" ".join(side) for side in zip(*group))
        if len(en) > max_chars or len(es) > max_chars:
            augmented.skipped["over-long join"] += 1
            continue
        augmented.pairs.append((en, es))
    return augmented
