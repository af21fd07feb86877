"""The strong baseline beats the naive one under the sim on every built-in question domain.

Both baselines run exactly as a verifier would run them (sandbox, gateway, sim). The data are generated (arith)
or small synthetic fixtures written here (aime, science), with difficulties where sampling and voting matter.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from runkit import run_async

from mac.domains.base import get_domain

N_PROBLEMS = 16


def _aime_rows(n: int) -> list[dict]:
    rng = random.Random(7)
    rows = []
    for i in range(n):
        a, b = rng.randint(10, 400), rng.randint(10, 500)
        rows.append({"id": f"synthetic-aime-{i}", "question": f"Let $x = {a}$ and $y = {b}$. Find the remainder when "
                     f"$x^2 + {i + 3}y$ is divided by $1000$.", "answer": str((a * a + (i + 3) * b) % 1000),
                     "difficulty": round(0.3 + 0.4 * i / n, 3)})
    return rows


def _science_rows(n: int) -> list[dict]:
    rng = random.Random(11)
    rows = []
    for i in range(n):
        options = [f"{rng.randint(100, 999)} kelvin" for _ in range(4)]
        rows.append({"id": f"synthetic-sci-{i}", "question": f"Synthetic question {i}: which temperature does the "
                     f"hypothetical compound X{i} melt at?",
                     "choices": [f"{'ABCD'[k]}) {o}" for k, o in enumerate(options)],
                     "answer": "ABCD"[rng.randrange(4)], "difficulty": round(0.3 + 0.4 * i / n, 3)})
    return rows


def _write(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True)
    for split in ("dev", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("domain_name", ["arith", "aime", "science"])
def test_strong_baseline_beats_naive(tmp_path, domain_name):
    import asyncio

    domain = get_domain(domain_name)
    if domain_name == "arith":
        records = domain.load("dev")[:N_PROBLEMS]
    else:
        rows = _aime_rows(N_PROBLEMS) if domain_name == "aime" else _science_rows(N_PROBLEMS)
        records = domain.load("dev", _write(tmp_path / domain_name, rows))

    async def both():
        naive = await run_async(domain.baseline("naive"), records=records, domain=domain_name, timeout=240)
        strong = await run_async(domain.baseline("strong"), records=records, domain=domain_name, timeout=240)
        return naive.result, strong.result

    naive, strong = asyncio.run(both())
    for result in (naive, strong):
        assert result.success and result.error is None and result.missing_predictions == [], result.error
        assert result.simulated
    assert strong.accuracy > naive.accuracy, (naive.accuracy, strong.accuracy)
    assert strong.usage.requests > naive.usage.requests  # the strong one buys accuracy with samples
