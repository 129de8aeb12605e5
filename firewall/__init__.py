"""A tool-call firewall for LLM agents.

Every tool call the model proposes is classified, checked against a policy and allowed,
denied or held for approval before it runs; every decision is recorded.
"""

from firewall.approvals import (
    ApprovalGrant,
    ApprovalRequest,
    Approver,
    CallbackApprover,
    ConsolePromptApprover,
    DenyAllApprover,
    grant_for,
)
from firewall.audit import AuditSink, verify
from firewall.engine import Evaluation, Firewall
from firewall.errors import FirewallError, PolicyError
from firewall.graph import GraphStore, SessionGraph
from firewall.intent import Classifier, get_classifier, register
from firewall.model import (
    Classification,
    Decision,
    Intent,
    Principal,
    Reason,
    ToolCall,
    Verdict,
)
from firewall.policy import Policy, load_policy, policy_from_dict, policy_from_yaml
from firewall.redact import RedactionSettings, VaultStore
from firewall.sinks import DecisionSink, MemorySink

__all__ = [
    "ApprovalGrant",
    "ApprovalRequest",
    "Approver",
    "AuditSink",
    "CallbackApprover",
    "Classification",
    "Classifier",
    "ConsolePromptApprover",
    "Decision",
    "DecisionSink",
    "DenyAllApprover",
    "Evaluation",
    "Firewall",
    "FirewallError",
    "GraphStore",
    "Intent",
    "MemorySink",
    "Policy",
    "PolicyError",
    "Principal",
    "Reason",
    "RedactedOutput",
    "RedactionSettings",
    "Redactor",
    "SessionGraph",
    "ToolCall",
    "VaultStore",
    "Verdict",
    "get_classifier",
    "grant_for",
    "load_policy",
    "policy_from_dict",
    "policy_from_yaml",
    "register",
    "verify",
]


def __getattr__(name: str) -> object:
    # The redactor loads Presidio and spaCy: only when it is asked for.
    if name in ("RedactedOutput", "Redactor"):
        import firewall.redact

        return getattr(firewall.redact, name)
    raise AttributeError(f"module 'firewall' has no attribute '{name}'")
