"""LangChain / LangGraph adapter: ``FirewallMiddleware`` for ``create_agent``, guarded tools.

Install with the ``langchain`` extra. Importing ``firewall`` never imports LangChain.
"""

from adapters.langchain.middleware import FirewallMiddleware

__all__ = ["FirewallMiddleware"]
