"""The real server: ``python app.py --port N`` on loopback, called through gradio_client like an API user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from sentences import FOUNDING

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["web_support"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app.url, verbose=False)


def test_translate_endpoint_returns_text_tokens_and_attention(client):
    text, data = client.predict(FOUNDING, api_name="/translate")
    assert text == data["translation"] and data["source"] == FOUNDING
    attention = np.array(data["attention"])
    assert attention.shape == (len(data["target_tokens"]), len(data["source_tokens"])) == np.array(data["scores"]).shape
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-3)
    assert len(data["steps"]) == len(data["target_tokens"]) and data["steps"][0][0]["probability"] > 0


def test_translate_endpoint_takes_decoding_options(client):
    _, greedy = client.predict("Where is the train station?", "Greedy", 5, 100, api_name="/translate")
    _, beam = client.predict("Where is the train station?", "Beam search", 4, 100, api_name="/translate")
    assert greedy["target_tokens"] and beam["target_tokens"]
    text, empty = client.predict("   ", api_name="/translate")
    assert text == "" and empty["target_tokens"] == [] and empty["notes"]


def test_compare_endpoint_and_nothing_else_is_public(client):
    _, attended, baseline = client.predict("Let's go.", api_name="/compare")
    assert attended and baseline
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/translate", "/compare"}


def test_view_api_names_what_translate_returns(client):
    endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/translate"]
    assert [output["label"] for output in endpoint["returns"]] == ["Spanish", "translation details"]
    assert [p["parameter_name"] for p in endpoint["parameters"]] == ["text", "decoding", "beam_size", "max_length"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("Beam search", 50, 100), "beam_size must be a whole number from 2 to 10, not 50"),
        (("Greedy", 5, 3), "max_length must be a whole number from 5 to"),
        (("Sampling", 5, 100), "decoding must be 'Greedy' or 'Beam search'"),
    ],
)
def test_out_of_range_values_get_a_clear_error_and_no_traceback(client, live_app, arguments, message):
    with pytest.raises(AppError, match=message):
        client.predict("Let's go.", *arguments, api_name="/translate")
    assert "Traceback" not in live_app.stderr()


def test_server_never_reaches_the_network(client, live_app):
    client.predict("Let's go.", api_name="/translate")
    assert "OUTBOUND" not in live_app.stderr()


def test_broken_model_folder_fails_fast_with_one_message(tmp_path):
    environment = {**os.environ, "TRANSLATOR_MODEL_DIR": str(tmp_path / "absent"), "GRADIO_ANALYTICS_ENABLED": "False"}
    result = subprocess.run(
        [sys.executable, "app.py", "--port", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: cannot start the translator" in result.stderr and "model folder not found" in result.stderr
    assert "Traceback" not in result.stderr
