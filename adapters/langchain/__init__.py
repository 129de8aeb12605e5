"""LangChain / LangGraph adapter: ``FirewallMiddleware`` for ``create_agent``, guarded tools.

Install with the ``langchain`` extra. Importing ``firewall`` never imports LangChain.
"""

from adapters.langchain.middleware import FirewallMiddleware
from adapters.langchain.tools import FirewallDenied, guard_toolkit, guard_tools

__all__ = ["FirewallDenied", "FirewallMiddleware", "guard_toolkit", "guard_tools"]
