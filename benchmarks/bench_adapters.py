"""Added time of each adapter against the same framework without it, measured in one run.

Each adapter's measurement lives in its own module (`adapters_<name>.py` beside this file,
with a `main()` that prints its rows); this script runs those whose framework is installed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SECTIONS = ["adapters_langchain", "adapters_openai", "adapters_mcp"]


def main() -> None:
    for name in SECTIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            print(f"{name}: skipped ({error})")
            continue
        module.main()


if __name__ == "__main__":
    main()
