"""Command-line option parsing shared by the command handlers (POSIX and GNU style)."""

from __future__ import annotations

from dataclasses import dataclass, field

from firewall.intent.shell.scan import Word


@dataclass(slots=True)
class Parsed:
    """Options seen (``-x`` / ``--name`` -> values, ``""`` for a flag) and the operands."""

    options: dict[str, list[str]] = field(default_factory=dict)
    operands: list[Word] = field(default_factory=list)
    #: Index in the argument list where operands started when parsing stopped early.
    rest: int = -1

    def has(self, *names: str) -> bool:
        return any(n in self.options for n in names)

    def values(self, *names: str) -> list[str]:
        return [v for n in names for v in self.options.get(n, ())]


def getopt(
    args: list[Word],
    short_values: str = "",
    long_values: frozenset[str] | set[str] = frozenset(),
    *,
    short_attached: str = "",
    stop_at_operand: bool = False,
) -> Parsed:
    """Split ``args`` into options and operands.

    ``short_values``: one-letter options taking a value (attached ``-ofile`` or the next
    argument); ``short_attached``: ones whose value can only be attached (``mysql -pX``);
    ``long_values``: long options taking a value (``--output x`` or ``--output=x``).
    With ``stop_at_operand`` parsing ends at the first operand (``sudo``, ``xargs``): the
    command's own arguments are not the wrapper's options.
    """
    parsed = Parsed()
    opts = parsed.options
    i = 0
    n = len(args)
    while i < n:
        word = args[i]
        text = word.text
        if text == "--":
            parsed.operands.extend(args[i + 1 :])
            if stop_at_operand:
                parsed.rest = i + 1
            break
        if text.startswith("--") and len(text) > 2:
            name, eq, value = text.partition("=")
            if not eq and name in long_values and i + 1 < n:
                i += 1
                value = args[i].text
            opts.setdefault(name, []).append(value)
        elif text.startswith("-") and len(text) > 1 and word.static:
            j = 1
            while j < len(text):
                letter = text[j]
                key = "-" + letter
                if letter in short_values:
                    value = text[j + 1 :]
                    if not value and i + 1 < n:
                        i += 1
                        value = args[i].text
                    opts.setdefault(key, []).append(value)
                    break
                if letter in short_attached:
                    opts.setdefault(key, []).append(text[j + 1 :])
                    break
                opts.setdefault(key, []).append("")
                j += 1
        else:
            if stop_at_operand:
                parsed.rest = i
                parsed.operands.extend(args[i:])
                break
            parsed.operands.append(word)
        i += 1
    return parsed
