"""Run a notebook top to bottom and save it with its outputs (the committed notebooks are
saved this way, so they read well where they are published).

    python notebooks/execute.py notebooks/inspect_trace.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
#: Import-time notices of optional libraries are not for the reader of a published notebook.
PUBLISHING_ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "TRANSFORMERS_VERBOSITY": "error"}


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute(env=PUBLISHING_ENV)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timings change on every run
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for name in sys.argv[1:] or ["notebooks/inspect_trace.ipynb"]:
        execute(Path(name))
