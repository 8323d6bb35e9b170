"""model/translate.py: the command line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

from conftest import ROOT

from model import translate
from model.translator import MAX_INPUT_CHARS

# Everything a file of "English" may hold: blank lines, spaces, control characters, markup, emoji, CJK, bytes that
# are not UTF-8, a carriage return, line separators that are not "\n", a very long line, a last line without "\n".
HOSTILE = (
    b"I see the cat.\n\n   \n\x00\x01\x1b[31m\n<b>bold</b> & <script>x</script>\n\xf0\x9f\x98\x80 \xe7\x8c\xab\n"
    b"\xff\xfe\xc3 broken utf-8\nWe have a house.\r\nlone\rreturn\n\xe2\x80\xa8sep\x0bvt\x0cff\n"
    + b"word " * 4000
    + b"\n\n\n"
    + b"They see the dog.\n" * 20
    + b"no newline at the end"
)


def run_cli(*args: str, stdin: bytes) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "model.translate", *args]
    return subprocess.run(command, input=stdin, capture_output=True, cwd=ROOT, timeout=300)


def test_cli_plain_and_json(tiny_model):
    run = run_cli("--model", str(tiny_model), "--json", stdin=b"I see the cat.\n\nWe have a house.\n")
    lines = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert len(lines) == 3 and lines[1]["translation"] == ""
    assert len(lines[0]["attention"]) == len(lines[0]["target_tokens"])
    # the coverage penalty off: this barely trained model's beam then writes what greedy does
    plain = run_cli("--model", str(tiny_model), "--beam", "3", "--coverage-penalty", "0", stdin=b"I see the cat.\n")
    assert plain.stdout.decode().strip() == lines[0]["translation"]


def test_one_line_out_per_line_in_whatever_the_input_and_workers(tiny_model):
    expected_lines = HOSTILE.count(b"\n") + 1  # the last line has no "\n"
    one = run_cli("--model", str(tiny_model), "--chunk-lines", "4", stdin=HOSTILE)
    assert one.returncode == 0 and one.stderr == b"", one.stderr.decode()[-2000:]  # piped: no progress bar
    assert one.stdout.count(b"\n") == expected_lines and one.stdout.endswith(b"\n")
    outputs = one.stdout.decode("utf-8").split("\n")[:-1]
    assert outputs[1] == outputs[2] == "" and outputs[-2] == outputs[-3]  # blank in, blank out; same in, same out
    two = run_cli("--model", str(tiny_model), "--chunk-lines", "4", "--workers", "2", stdin=HOSTILE)
    assert two.returncode == 0 and two.stdout == one.stdout  # byte-identical, in input order
    as_json = run_cli("--model", str(tiny_model), "--chunk-lines", "4", "--json", stdin=HOSTILE)
    records = [json.loads(line) for line in as_json.stdout.decode().split("\n")[:-1]]
    assert [r["translation"] for r in records] == outputs


def test_read_lines_cuts_an_enormous_line_without_holding_it():
    stream = io.StringIO("x" * (10 * MAX_INPUT_CHARS + 3) + "\nnext\n\nlast")
    lines = list(translate.read_lines(stream))
    assert [len(line) for line in lines] == [MAX_INPUT_CHARS, 4, 0, 4]


def test_closed_pipe_exits_quietly(tiny_model, tmp_path):
    """`python -m model.translate | head -1`: no BrokenPipeError traceback."""
    english = tmp_path / "english.txt"
    english.write_text("I see the cat.\n" * 5000)
    for workers in ("1", "2"):
        command = [sys.executable, "-m", "model.translate", "--model", str(tiny_model), "--chunk-lines", "1"]
        process = subprocess.Popen(
            [*command, "--workers", workers],
            stdin=english.open("rb"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert process.stdout.readline()  # `head -1`
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=300) in (0, 141) and "Traceback" not in stderr and "Error" not in stderr, stderr


def test_help_example_is_what_the_shipped_model_writes(shipped):
    sentence, claimed = re.search(r'echo "(.+?)" \| python -m model.translate\s+# -> (.+)', translate.__doc__).groups()
    assert shipped.translate(sentence).text == claimed


def test_cli_broken_model_folder_exits_with_message(tmp_path):
    for workers in ("1", "2"):
        run = run_cli("--model", str(tmp_path / "nowhere"), "--workers", workers, stdin=b"Hi.\n")
        assert run.returncode == 2 and b"model folder not found" in run.stderr and b"Traceback" not in run.stderr


def test_cli_rejects_bad_options():
    for args in (["--workers", "0"], ["--beam", "0"], ["--chunk-lines", "0"]):
        run = run_cli(*args, stdin=b"Hi.\n")
        assert run.returncode == 2 and b"must" in run.stderr
