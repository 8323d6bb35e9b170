"""model/web/gradio_import.py: gradio imported without rewriting its type stubs, and working as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gradio  # noqa: F401  (already imported, as in most test processes)

from model.web import gradio_import

ROOT = Path(__file__).resolve().parent.parent

FRESH_IMPORT = """
import sys
from model.web.gradio_import import skip_stub_writing, _StubWriterSkipper
skip_stub_writing()
import gradio as gr
import gradio.component_meta as meta
assert meta.create_or_modify_pyi.__name__ == "_write_no_stub", meta.create_or_modify_pyi
assert not any(isinstance(finder, _StubWriterSkipper) for finder in sys.meta_path)  # gone once used
with gr.Blocks() as demo:  # components and their events are made as before
    text = gr.Textbox(elem_id="source")
    button = gr.Button("Go")
    button.click(lambda x: x, text, text, api_name="echo")
config = demo.get_config_file()
assert any(d["api_name"] == "echo" for d in config["dependencies"])
print("ok")
"""


def test_a_fresh_gradio_import_writes_no_stubs_and_builds_pages():
    result = subprocess.run([sys.executable, "-c", FRESH_IMPORT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_no_effect_once_gradio_is_imported():
    before = list(sys.meta_path)
    gradio_import.skip_stub_writing()
    assert sys.meta_path == before
