"""Small file helpers shared by training, checkpoints and the page: JSON in and out, and file checksums."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any


def read_json(path: str | Path) -> dict | None:
    """The parsed file, or None when it is missing or unreadable (the page then says "not measured yet")."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str | Path, data: Any) -> None:
    """Indented UTF-8 JSON with a final newline, written whole (a reader never sees half a file)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replace_folder(new: str | Path, target: str | Path) -> None:
    """Put the finished folder ``new`` in the place of ``target`` by renames: a reader finds the old folder whole or
    the new one whole, never a mix (at most, for the instant between two renames, no folder)."""
    new, target = Path(new), Path(target)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
