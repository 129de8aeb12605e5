"""Adapters: one module per agent framework.

Each adapter imports the core (`firewall`) and one framework, translates formats and holds no
policy logic; the core never imports an adapter.
"""
