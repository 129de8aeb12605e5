"""One walk over the bash syntax tree: every command, with its words, redirects and input.

The walk follows data, not just syntax: each statement returns what it writes to stdout
(nothing, known text, downloaded content, or something opaque), so ``curl ... | sh`` and
``echo 'DROP TABLE t' | psql`` are seen for what the consumer executes. Words are reduced
to the text bash would pass (quotes removed, escapes decoded); a word built from a
variable or substitution is marked dynamic, and the commands inside substitutions are
walked like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from firewall.intent.shell.catalog import environment_understood, secret_variable
from firewall.intent.shell.parse import (
    decode_ansi_c,
    has_brace_list,
    parse,
    unescape_bare,
    unescape_double,
)
from firewall.intent.shell.report import Report
from firewall.model import Intent

if TYPE_CHECKING:
    from tree_sitter import Node

MAX_DEPTH = 12
MAX_SOURCE = 100_000

# What flows through a pipe.
NONE = "none"  # nothing (a terminal, or the command writes elsewhere)
TEXT = "text"  # text known from the command line (echo, here-docs, here-strings)
DOWNLOAD = "download"  # content fetched from the network
OPAQUE = "opaque"  # anything else: a file, another program's output


@dataclass(slots=True, frozen=True)
class Stream:
    kind: str
    text: str = ""


NO_INPUT = Stream(NONE)
OPAQUE_STREAM = Stream(OPAQUE)
DOWNLOAD_STREAM = Stream(DOWNLOAD)


@dataclass(slots=True)
class Word:
    """One argument as bash would pass it (``text``), and how it was built."""

    text: str
    static: bool = True
    glob: bool = False
    brace: bool = False
    download: bool = False  # holds the output of a download ($(curl ...), <(curl ...))


@dataclass(slots=True)
class Redirect:
    op: str
    fd: str
    target: Word | None


@dataclass(slots=True)
class Invocation:
    """A simple command about to run: its words, redirects and standard input."""

    argv: list[Word]
    redirects: list[Redirect]
    stdin: Stream
    depth: int
    #: The arguments are completed from stdin at run time (``xargs``), so are not all known.
    more_args_unknown: bool = False
    in_pipeline: bool = False

    @property
    def args(self) -> list[Word]:
        return self.argv[1:]

    def shifted(self, start: int, **changes: object) -> Invocation:
        """The command a wrapper runs: ``sudo rm -rf x`` -> ``rm -rf x``."""
        inv = Invocation(
            self.argv[start:],
            self.redirects,
            self.stdin,
            self.depth,
            self.more_args_unknown,
            self.in_pipeline,
        )
        for key, value in changes.items():
            setattr(inv, key, value)
        return inv


_WORD_TYPES = frozenset(
    {
        "word",
        "string",
        "raw_string",
        "concatenation",
        "number",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "ansi_c_string",
        "translated_string",
        "arithmetic_expansion",
        "brace_expression",
    }
)
_BLOCKS = frozenset({"program", "subshell", "compound_statement", "do_group", "list"})
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})


@dataclass
class Scanner:
    """Walks command lines into a ``Report``; ``run`` is given by the command table."""

    report: Report
    run: object  # Callable[[Scanner, Invocation], Stream]; set by the package
    functions: dict[str, int] = field(default_factory=dict)
    active_functions: list[str] = field(default_factory=list)
    downloaded_files: set[str] = field(default_factory=set)
    in_pipeline: bool = False

    # -- entry points -------------------------------------------------------------------

    def script(self, text: str, stdin: Stream, depth: int) -> Stream:
        """Walk a whole command line (also the text of ``sh -c``, ``eval``, here-docs)."""
        if depth > MAX_DEPTH:
            self.report.unknown(f"commands nested deeper than {MAX_DEPTH} levels")
            return OPAQUE_STREAM
        if len(text) > MAX_SOURCE:
            self.report.unknown(f"the command is longer than {MAX_SOURCE} characters")
            return OPAQUE_STREAM
        if "\x00" in text:
            self.report.unknown("the command contains a NUL character")
            return OPAQUE_STREAM
        try:
            source = text.encode("utf-8")
        except UnicodeEncodeError:
            self.report.unknown("the command is not valid text")
            return OPAQUE_STREAM
        root = parse(source).root_node
        if root.has_error:
            self.report.unknown("the command does not parse as bash")
        return self.block(root.named_children, stdin, depth)

    def invoke(self, inv: Invocation) -> Stream:
        return self.run(self, inv)  # type: ignore[operator]

    # -- statements ---------------------------------------------------------------------

    def block(self, nodes: list[Node], stdin: Stream, depth: int) -> Stream:
        outputs = [self.statement(n, stdin, depth) for n in nodes if n.type != "comment"]
        return combine(outputs)

    def statement(self, node: Node, stdin: Stream, depth: int) -> Stream:
        kind = node.type
        if kind == "command":
            return self.command(node, [], stdin, depth)
        if kind == "pipeline":
            return self.pipeline(_stages(node), stdin, depth)
        if kind == "redirected_statement":
            return self.redirected(node, stdin, depth)
        if kind == "variable_assignment":
            self.assignment(node)
        elif kind == "declaration_command":
            self.declaration(node)
        elif kind == "test_command":
            self.test(node)
        elif kind == "c_style_for_statement" or (
            kind == "compound_statement" and _text(node).startswith("((")
        ):
            self.arithmetic(node)
        if kind in _BLOCKS:
            return self.block(node.named_children, stdin, depth)
        if kind == "negated_command":
            return self.block(node.named_children, stdin, depth)
        if kind == "function_definition":
            return self.function(node, depth)
        if kind in _WORD_TYPES:
            word = self.word(node, depth)
            return DOWNLOAD_STREAM if word.download else NO_INPUT
        if kind == "comment":
            return NO_INPUT
        if kind == "heredoc_body":
            self.substitutions(node, depth)
            return NO_INPUT
        # if/while/for/case/test/declarations/assignments/ERROR: walk what is inside
        outputs = []
        for child in node.named_children:
            if child.type in _WORD_TYPES:
                if self.word(child, depth).download:
                    outputs.append(DOWNLOAD_STREAM)
            elif child.type not in ("variable_name", "comment", "test_operator"):
                outputs.append(self.statement(child, stdin, depth))
        return combine(outputs)

    def pipeline(self, stages: list[Node], stdin: Stream, depth: int) -> Stream:
        flow = stdin
        downloaded = stdin.kind == DOWNLOAD
        outer, self.in_pipeline = self.in_pipeline, True
        try:
            for stage in stages:
                flow = self.statement(stage, DOWNLOAD_STREAM if downloaded else flow, depth)
                downloaded = downloaded or flow.kind == DOWNLOAD
        finally:
            self.in_pipeline = outer
        return DOWNLOAD_STREAM if downloaded else flow

    def redirected(self, node: Node, stdin: Stream, depth: int) -> Stream:
        body = node.child_by_field_name("body")
        redirects: list[Redirect] = []
        after: list[Node] = []
        piped: Node | None = None
        for child in node.named_children:
            if child is None or child == body:
                continue
            if child.type == "heredoc_redirect":
                text, more, piped_here, rest = self.heredoc(child, depth)
                redirects.append(Redirect("<<", "", Word(text)))
                redirects.extend(more)
                piped = piped or piped_here
                after.extend(rest)
            elif child.type in _REDIRECTS:
                redirects.append(self.redirect(child, depth))
            else:
                after.append(child)
        if body is None:  # a bare redirect, ``> file``: it still creates or empties the file
            self.apply_redirects(redirects, stdin)
            out = NO_INPUT
        elif body.type == "command":
            out = self.command(body, redirects, stdin, depth)
        else:
            out = self.statement(body, self.apply_redirects(redirects, stdin), depth)
        if piped is not None:
            out = self.pipeline([out_node for out_node in _stages(piped)], out, depth)
        for extra in after:
            self.statement(extra, stdin, depth)
        return out

    def heredoc(
        self, node: Node, depth: int
    ) -> tuple[str, list[Redirect], Node | None, list[Node]]:
        """A here-doc's text, further redirects, a pipeline continuing the line, the rest."""
        text = ""
        redirects: list[Redirect] = []
        piped: Node | None = None
        rest: list[Node] = []
        for child in node.named_children:
            kind = child.type
            if kind == "heredoc_body":
                text = _text(child)
                self.substitutions(child, depth)
            elif kind in _REDIRECTS:
                redirects.append(self.redirect(child, depth))
            elif kind == "pipeline" and piped is None:
                piped = child
            elif kind not in ("heredoc_start", "heredoc_end"):
                rest.append(child)
        return text, redirects, piped, rest

    def redirect(self, node: Node, depth: int) -> Redirect:
        op = ""
        fd = ""
        target: Word | None = None
        for child in node.children:
            kind = child.type
            if kind == "file_descriptor":
                fd = _text(child)
            elif not child.is_named:
                op += _text(child)
            elif kind in _WORD_TYPES and target is None:
                target = self.word(child, depth)
            else:
                self.statement(child, NO_INPUT, depth)
        return Redirect(op, fd, target)

    def apply_redirects(self, redirects: list[Redirect], stdin: Stream) -> Stream:
        """Record what redirects read and write; return the stdin they give the command."""
        report = self.report
        for r in redirects:
            target = r.target
            if target is None:
                continue
            text = target.text
            if r.op == "<<":
                stdin = Stream(TEXT, text)
                continue
            if r.op == "<<<":
                if target.static:
                    stdin = Stream(TEXT, text + "\n")
                else:
                    stdin = DOWNLOAD_STREAM if target.download else OPAQUE_STREAM
                continue
            if r.op in (">&", "<&", ">&-", "<&-") and (text.isdigit() or text in ("-", "")):
                continue  # fd duplication or closing (2>&1, >&2, <&-)
            if text.startswith(("/dev/tcp/", "/dev/udp/")):
                host = text.split("/")[3] if text.count("/") >= 3 else ""
                report.egress(host or None)
                if "<" in r.op:
                    stdin = DOWNLOAD_STREAM
                if ">" in r.op:
                    report.upload("<stdin>")
                continue
            if r.op in ("<", "<>"):
                report.read(text)
                stdin = DOWNLOAD_STREAM if target.download else OPAQUE_STREAM
                if r.op == "<>":
                    report.write(text)
                continue
            report.write(text)
        return stdin

    def command(self, node: Node, redirects: list[Redirect], stdin: Stream, depth: int) -> Stream:
        argv: list[Word] = []
        redirects = list(redirects)
        named = False
        for child in node.named_children:
            kind = child.type
            if kind == "command_name":
                named = True
                inner = child.named_children
                argv.insert(0, self.word(inner[0], depth) if inner else Word("", static=False))
            elif kind in _WORD_TYPES:
                argv.append(self.word(child, depth))
            elif kind in _REDIRECTS:
                if kind == "heredoc_redirect":
                    text, more, _, rest = self.heredoc(child, depth)
                    redirects.append(Redirect("<<", "", Word(text)))
                    redirects.extend(more)
                    for extra in rest:
                        self.statement(extra, NO_INPUT, depth)
                else:
                    redirects.append(self.redirect(child, depth))
            else:
                self.statement(child, NO_INPUT, depth)
        if not named:
            self.apply_redirects(redirects, stdin)
            return NO_INPUT
        stdin = self.apply_redirects(redirects, stdin)
        inv = Invocation(argv, redirects, stdin, depth, in_pipeline=self.in_pipeline)
        return self.invoke(inv)

    def function(self, node: Node, depth: int) -> Stream:
        name_node = node.child_by_field_name("name")
        name = _text(name_node) if name_node is not None else ""
        self.functions[name] = 0
        self.active_functions.append(name)
        outer, self.in_pipeline = self.in_pipeline, False
        try:
            body = node.child_by_field_name("body")
            if body is not None:
                self.statement(body, NO_INPUT, depth)
        finally:
            self.active_functions.pop()
            self.in_pipeline = outer
        if self.functions.get(name, 0) >= 2:
            self.report.finding("fork bomb")
            self.report.intent(Intent.CODE_EXECUTE)
        return NO_INPUT

    # -- bash features that run text as code ----------------------------------------------

    def assignment(self, node: Node) -> None:
        """``NAME=value``: only variables the catalog knows do not change what runs."""
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        if name_node.type == "subscript":  # a[i]=x evaluates the subscript as arithmetic
            index = name_node.child_by_field_name("index")
            if index is None or index.type != "number":
                self.report.not_understood("an array subscript evaluated as arithmetic")
            name_node = name_node.child_by_field_name("name") or name_node
        name = _text(name_node)
        if not environment_understood(name):
            self.report.not_understood(f"sets {name}")

    def declaration(self, node: Node) -> None:
        """``export``/``declare``/``local``/``readonly``/``typeset``."""
        keyword = _text(node.children[0]) if node.children else ""
        args = [c for c in node.named_children]
        if not args and keyword in ("export", "declare", "typeset", "readonly", "local"):
            self.report.reads_environment()  # bare: prints every variable
        for child in args:
            if child.type == "word":
                flag = _text(child)
                if flag in ("-p", "-x") and keyword != "local" and len(args) == 1:
                    self.report.reads_environment()
                elif not (flag.startswith("-") and set(flag[1:]) <= set("aArgx")):
                    self.report.not_understood(f"{keyword} {flag}")
            elif child.type not in ("variable_assignment", "variable_name"):
                self.report.not_understood(f"{keyword}: {child.type}")

    def test(self, node: Node) -> None:
        """``[[ ]]``: arithmetic comparisons evaluate variables' values as expressions."""
        text = _text(node)
        if not text.startswith("[["):
            return
        for op in _ARITH_TESTS:
            if op in text:
                for child in _descendants(node):
                    if child.type == "test_operator" and _text(child) in _ARITH_TESTS:
                        parent = child.parent
                        if parent is None or any(
                            c.type != "number" for c in parent.named_children if c != child
                        ):
                            self.report.not_understood(
                                f"[[ {_text(child)} ]] evaluates its operands as arithmetic"
                            )
                            return
                break

    def arithmetic(self, node: Node) -> None:
        """``((...))``, ``$((...))``, ``for ((...))``: names are evaluated recursively, and a
        subscript in a variable's value (``a[$(cmd)]``) runs the command."""
        body = _text(node)
        if any(c.isalpha() or c in "_$[`" for c in body.replace("for", "", 1)):
            self.report.not_understood("arithmetic that evaluates variables")

    # -- words --------------------------------------------------------------------------

    def word(self, node: Node, depth: int) -> Word:
        kind = node.type
        if kind == "word":
            raw = _text(node)
            return Word(
                unescape_bare(raw),
                glob="*" in raw or "?" in raw or "[" in raw,
                brace=has_brace_list(raw),
            )
        if kind == "raw_string":
            return Word(_text(node)[1:-1])
        if kind == "number":
            return Word(_text(node))
        if kind == "ansi_c_string":
            return Word(decode_ansi_c(_text(node)[2:-1]))
        if kind in ("string", "translated_string"):
            return self.string(node, depth)
        if kind == "concatenation":
            parts = [self.word(child, depth) for child in node.named_children]
            return Word(
                "".join(p.text for p in parts),
                static=all(p.static for p in parts),
                glob=any(p.glob for p in parts),
                brace=any(p.brace for p in parts),
                download=any(p.download for p in parts),
            )
        if kind in ("command_substitution", "process_substitution"):
            out = self.block(node.named_children, NO_INPUT, depth)
            return Word(_text(node), static=False, download=out.kind == DOWNLOAD)
        # expansions ($x, ${x:-...}, $((...))) and anything else: dynamic
        if kind == "arithmetic_expansion":
            self.arithmetic(node)
        elif kind == "expansion":
            self.expansion(_text(node))
            self.variable(_text(node))
        elif kind == "simple_expansion":
            self.variable(_text(node))
        download = self.substitutions(node, depth)
        return Word(_text(node), static=False, download=download)

    def expansion(self, text: str) -> None:
        """``${x@P}`` runs substitutions in the value; ``${!x}`` and ``${a[i]}`` evaluate
        a name or subscript taken from a value."""
        if text.startswith("${!"):
            self.report.not_understood("an indirect expansion ${!...}")
        elif "@" in text and any(f"@{op}" in text for op in "PEAKak"):
            self.report.not_understood("a ${...@operator} expansion")
        elif "[" in text:
            index = text[text.find("[") + 1 : text.find("]")] if "]" in text else "?"
            if not (index.isdigit() or index in ("@", "*")):
                self.report.not_understood("an array subscript evaluated as arithmetic")

    def variable(self, text: str) -> None:
        """``$GITHUB_TOKEN`` puts a secret of the environment on the command line."""
        name = text.lstrip("${!#")
        end = 0
        while end < len(name) and (name[end].isalnum() or name[end] == "_"):
            end += 1
        if secret_variable(name[:end]):
            self.report.reads_environment()

    def string(self, node: Node, depth: int) -> Word:
        text: list[str] = []
        static = True
        download = False
        for child in node.named_children:
            kind = child.type
            if kind == "string_content":
                text.append(unescape_double(_text(child)))
            elif kind == "string":
                inner = self.string(child, depth)
                text.append(inner.text)
                static = static and inner.static
                download = download or inner.download
            else:
                inner = self.word(child, depth)
                text.append(inner.text)
                static = False
                download = download or inner.download
        return Word("".join(text), static=static, download=download)

    def substitutions(self, node: Node, depth: int) -> bool:
        """Walk the command substitutions inside ``node``; True if one downloads."""
        download = False
        for child in node.named_children:
            if child.type in ("command_substitution", "process_substitution"):
                download = self.word(child, depth).download or download
            elif child.named_child_count:
                download = self.substitutions(child, depth) or download
        return download


_ARITH_TESTS = ("-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-v", "-R")


def _descendants(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = list(node.named_children)
    while stack:
        child = stack.pop()
        out.append(child)
        stack.extend(child.named_children)
    return out


def combine(outputs: list[Stream]) -> Stream:
    """The stdout of statements run one after another."""
    outputs = [o for o in outputs if o.kind != NONE]
    if not outputs:
        return NO_INPUT
    if any(o.kind == DOWNLOAD for o in outputs):
        return DOWNLOAD_STREAM
    if all(o.kind == TEXT for o in outputs):
        return Stream(TEXT, "".join(o.text for o in outputs))
    return OPAQUE_STREAM


def _stages(pipeline: Node) -> list[Node]:
    return [c for c in pipeline.named_children if c.type != "comment"]


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
