"""model/translate.py: the command line."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


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
