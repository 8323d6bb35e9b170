"""Importing gradio without the work it does only for its own developers.

At every import, gradio's component metaclass (``gradio.component_meta.create_or_modify_pyi``) reads the source file
of each component class, parses it with ``ast``, renders a Jinja template and compares or rewrites the ``.pyi`` type
stub beside it in site-packages: about half of what `import gradio` costs, for files no running app reads (figures:
docs/performance.md, "The page and load"). skip_stub_writing() makes that function do nothing, for this process.

It must run before gradio is first imported. Should a later gradio move or rename the function, nothing is skipped
and nothing breaks: the import is as slow as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

STUB_WRITER_MODULE = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def skip_stub_writing() -> None:
    """From the next ``import gradio`` on, gradio writes no type stubs. No effect if gradio is already imported."""
    if STUB_WRITER_MODULE not in sys.modules and not any(isinstance(f, _StubWriterSkipper) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubWriterSkipper())


def _write_no_stub(*args, **kwargs) -> None:
    return None


class _StubWriterSkipper(importlib.abc.MetaPathFinder):
    """Finds gradio.component_meta as Python would, and replaces the stub writer right after the module has run,
    before any component class is made; then leaves sys.meta_path (not while Python walks it, in find_spec)."""

    def find_spec(self, name, path, target=None):
        if name != STUB_WRITER_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module) -> None:
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            run_module(module)
            if callable(getattr(module, STUB_WRITER, None)):
                setattr(module, STUB_WRITER, _write_no_stub)

        spec.loader.exec_module = exec_module
        return spec
