"""model/files.py: JSON in and out, checksums."""

from __future__ import annotations

import hashlib

from model.files import read_json, sha256_of, write_json


def test_write_then_read_round_trips_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"bleu": 40.1, "name": "canción"})
    assert read_json(path) == {"bleu": 40.1, "name": "canción"}
    assert "canción" in path.read_text(encoding="utf-8") and path.read_text().endswith("\n")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_read_json_tolerates_missing_broken_and_non_dict_files(tmp_path):
    assert read_json(tmp_path / "absent.json") is None
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert read_json(tmp_path / "broken.json") is None and read_json(tmp_path / "list.json") is None


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * (3 << 20))
    assert sha256_of(path) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()
