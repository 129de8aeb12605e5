"""Added time of the drop-in OpenAI client against the plain client, on a local API server.

The server answers at once, so the ratios are the worst case: against a real API (hundreds
of milliseconds per reply) the same added milliseconds are a far smaller share. Measured:
one request with a tool call (whole reply and stream), and a 20-step tool loop whose history
grows by one tool output (with an email address to redact) per step.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402
import yaml  # noqa: E402

from adapters.openai import OpenAI, run_tool_calls  # noqa: E402
from firewall import Firewall, load_policy, policy_from_dict  # noqa: E402
from tests.openai_api import (  # noqa: E402
    Reply,
    Server,
    chunks,
    completion,
    function_call,
    message,
)

STEPS = 20
#: A model's reply time, only to put the added time in proportion (not measured here).
MODEL_SECONDS = 1.0
ROUNDS = 9
CALL = function_call("c1", "search_docs", {"query": "open orders of customer 17"})
ASK = [{"role": "user", "content": "How many open orders does customer 17 have?"}]


def _output(step: int) -> str:
    return f"Order {step}: open, customer maria.lopez{step}@example.com, total {step * 10} EUR"


def _one(client: openai.OpenAI, stream: bool) -> None:
    if stream:
        with client.chat.completions.stream(model="m", messages=ASK) as running:
            running.get_final_completion()
    else:
        client.chat.completions.create(model="m", messages=ASK)


def _loop(client: openai.OpenAI) -> None:
    messages: list = list(ASK)
    for step in range(STEPS):
        reply = client.chat.completions.create(model="m", messages=messages)
        messages.append(reply.choices[0].message)
        messages += run_tool_calls(reply, {"search_docs": lambda query, s=step: _output(s)})


def _paired(plain, guarded, repeat: int) -> tuple[float, float]:
    """Medians over ``ROUNDS`` alternating rounds of ``repeat`` runs each, seconds per run.

    Alternating keeps the two sides under the same load on a shared machine.
    """
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        for side, run in enumerate((plain, guarded)):
            start = time.perf_counter()
            for _ in range(repeat):
                run()
            times[side].append((time.perf_counter() - start) / repeat)
    return statistics.median(times[0]), statistics.median(times[1])


def _serve(reply: Reply, port: multiprocessing.connection.Connection) -> None:
    with Server() as api:
        api.state.repeat = reply
        port.send(api.url)
        port.recv()  # until the benchmark is done


@contextmanager
def _server(reply: Reply):
    """The API server in a process of its own: no share of the benchmark's interpreter lock."""
    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve, args=(reply, there), daemon=True)
    process.start()
    try:
        yield here.recv()
    finally:
        here.send("stop")
        process.join(5)


def main() -> None:
    firewall = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
    data = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    data["redaction"] = {**data["redaction"], "ner": False}
    patterns_only = Firewall(policy_from_dict(data))
    print("adapters_openai: drop-in client vs plain client, local server (machine shared)")
    for label, reply, stream, repeat in (
        ("one request, whole reply", Reply(completion(message(None, [CALL]))), False, 200),
        ("one request, stream", Reply(events=chunks("Looking.", [CALL])), True, 200),
    ):
        with _server(reply) as url:
            plain = openai.OpenAI(api_key="t", base_url=url, max_retries=0)
            guarded = OpenAI(firewall=firewall, api_key="t", base_url=url, max_retries=0)
            for client in (plain, guarded):  # warm both (the redaction engine loads once)
                _one(client, stream)
            base, with_fw = _paired(
                lambda c=plain, s=stream: _one(c, s), lambda c=guarded, s=stream: _one(c, s), repeat
            )
        print(
            f"  {label:<34} plain {base * 1e3:7.2f} ms  firewall {with_fw * 1e3:7.2f} ms"
            f"  added {(with_fw - base) * 1e3:6.2f} ms  ratio {with_fw / base:5.2f}"
        )
    sessions = iter(range(10**6))
    with _server(Reply(completion(message(None, [CALL])))) as url:
        plain = openai.OpenAI(api_key="t", base_url=url, max_retries=0)
        for label, fw in (("names found (NER)", firewall), ("patterns only", patterns_only)):
            client = OpenAI(firewall=fw, api_key="t", base_url=url, max_retries=0)
            base, with_fw = _paired(
                lambda: _loop(plain),
                lambda c=client: _loop(c.with_session(f"b{next(sessions)}")),
                1,
            )
            print(
                f"  {STEPS}-step loop, {label:<20} plain {base * 1e3:7.1f} ms  firewall "
                f"{with_fw * 1e3:7.1f} ms  added {(with_fw - base) * 1e3 / STEPS:6.2f} ms/step"
                f"  ratio {with_fw / base:5.2f}"
            )
            added = (with_fw - base) / STEPS
            share = added / (base / STEPS + MODEL_SECONDS)
            print(f"    with {MODEL_SECONDS:.0f} s per model reply: +{share:.1%} per step")


if __name__ == "__main__":
    main()
