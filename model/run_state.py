"""Everything a resumable training run carries from epoch to epoch, saved as ``<work-dir>/last.pt``."""

from __future__ import annotations

import random

import torch

from .config import TrainConfig
from .seq2seq import Seq2Seq


class Run:
    """Everything a resumable training run carries from epoch to epoch."""

    def __init__(self, config: TrainConfig, model: Seq2Seq):
        self.config = config
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.epoch = 0
        self.step = 0
        self.total_steps = 0  # fixed after the first epoch from the time budget
        self.schedule_start = 0  # step where the current learning-rate cycle began
        self.best_bleu = -1.0
        self.best_epoch = 0
        self.seconds = 0.0
        self.curves: list[dict] = []
        self.history: list[dict] = []  # one entry per invocation that trained or scored this run
        self.start: dict | None = None  # with --init-from: where the run started and that model's dev scores
        self.averaged: dict | None = None  # with --average-last: the averaged weights' epochs and dev scores

    def state(self) -> dict:
        keys = (
            "epoch",
            "step",
            "total_steps",
            "schedule_start",
            "best_bleu",
            "best_epoch",
            "seconds",
            "curves",
            "history",
            "start",
            "averaged",
        )
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
            **{k: getattr(self, k) for k in keys},
        }

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state.pop("model"))
        self.optimizer.load_state_dict(state.pop("optimizer"))
        torch.set_rng_state(state.pop("torch_rng"))
        random.setstate(state.pop("python_rng"))
        for key, value in state.items():
            setattr(self, key, value)
