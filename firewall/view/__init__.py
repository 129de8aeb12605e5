"""Seeing what an agent did: the action graph as a picture, decisions as tables.

The picture, the interactive figure and the DataFrames need the ``view`` extra
(networkx, matplotlib, plotly, pandas);
``firewall.view.html`` and ``firewall.traceview`` work without it. Names are imported on
first use, so ``import firewall.view`` never fails on a missing extra.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "action_graph": "firewall.view.actiongraph",
    "denied_flows": "firewall.view.actiongraph",
    "describe": "firewall.view.actiongraph",
    "positions": "firewall.view.actiongraph",
    "trace_back": "firewall.view.actiongraph",
    "draw": "firewall.view.picture",
    "figure": "firewall.view.interactive",
    "save_png": "firewall.view.picture",
    "to_png": "firewall.view.picture",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'firewall.view' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
