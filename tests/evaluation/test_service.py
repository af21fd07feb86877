"""The evaluation service's HTTP contract, over a real unix socket, with real artifact sandboxes."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from mac.store.atomic import read_jsonl
from svckit import SLOW_AGENT, serving

MAC_FIELDS = {"success", "accuracy", "correct", "total", "scores", "missing_predictions", "detailed_results",
              "predictions_content", "partial", "timed_out", "run_id", "usage"}


def test_health_info_and_budget(tmp_path):
    async def main():
        async with serving(tmp_path, requests=500, dev_time=600) as s:
            assert await s.get("/health") == {"status": "ok"}
            info = await s.get("/info")
            assert info["domain"] == "arith" and info["dev_problems"] == 6 and info["simulated"] is True
            assert {"POST /evaluate/agent", "GET /health", "GET /info", "GET /budget"} <= set(info["endpoints"])
            budget = await s.get("/budget")
            assert 590 < budget["time_left_sec"] <= 600
            assert budget["quota"]["requests"] == 500 and budget["quota_left"]["requests"] == 500
            assert budget["quota_left"]["output_tokens"] is None  # unlimited
            assert budget["running"] is None and budget["evaluations"] == 0

    asyncio.run(main())


def test_evaluate_scores_a_snapshot_and_records_the_call(tmp_path):
    async def main():
        async with serving(tmp_path) as s:
            status, body = await s.post(agent_file="agent.py", split="eval")
            assert status == 200, body
            assert MAC_FIELDS <= set(body)
            assert body["success"] is True and body["total"] == 6 and len(body["scores"]) == 6
            assert body["accuracy"] == pytest.approx(100 * body["correct"] / 6, abs=0.01)
            assert body["usage"]["requests"] >= 6  # the naive baseline: one call per problem
            assert all("answer" not in d and "expected" not in d for d in body["detailed_results"])
            (s.workspace / "v2").mkdir()
            (s.workspace / "v2" / "agent.py").write_bytes((s.workspace / "agent.py").read_bytes())
            status, small = await s.post(agent_file="/workspace/v2/agent.py", split="dev", first_k=2)
            assert status == 200 and small["success"] is True and small["total"] == 2
            budget = await s.get("/budget")
            assert budget["usage"]["requests"] == body["usage"]["requests"] + small["usage"]["requests"]
            assert budget["quota_left"]["requests"] == 500 - budget["usage"]["requests"]
            return body, small

    body, small = asyncio.run(main())
    rows = read_jsonl(tmp_path / "dev_evals.jsonl")
    assert [(r["agent_file"], r["first_k"]) for r in rows] == [("agent.py", None), ("v2/agent.py", 2)]
    assert rows[0]["run_id"] == body["run_id"] and rows[0]["accuracy"] == body["accuracy"]
    assert rows[0]["agent_sha256"] == hashlib.sha256((tmp_path / "workspace" / "agent.py").read_bytes()).hexdigest()
    assert rows[0]["usage"]["requests"] == body["usage"]["requests"] and rows[0]["time_sec"] >= 0


def test_test_split_is_always_refused_and_recorded(tmp_path):
    async def main():
        async with serving(tmp_path) as s:
            for split in ("test", "test"):
                status, body = await s.post(agent_file="agent.py", split=split)
                assert status == 403 and body["success"] is False
            status, _ = await s.post(agent_file="agent.py", split="train")
            assert status == 400
            return s.evidence.records()

    evidence = asyncio.run(main())
    assert [e["kind"] for e in evidence].count("eval_refused_test_split") == 2
    assert all(e["source"] == "evaluation" for e in evidence)
    assert read_jsonl(tmp_path / "dev_evals.jsonl") == []  # nothing ran


def test_agent_file_must_resolve_inside_the_workspace(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("print('secret')\n")

    async def main():
        async with serving(tmp_path) as s:
            (s.workspace / "link.py").symlink_to(outside)
            (s.workspace / "sub").mkdir()
            (s.workspace / "subdir_link").symlink_to(tmp_path)
            (s.workspace / "notes.txt").write_text("x")
            bad = ["../outside.py", str(outside), "/etc/passwd", "/workspace/../outside.py", "link.py",
                   "subdir_link/outside.py", "sub", "missing.py", "notes.txt", "", 42]
            for agent_file in bad:
                status, body = await s.post(agent_file=agent_file, split="eval")
                assert status == 400, (agent_file, body)
                assert body["success"] is False and body["error"]
            status, _ = await s.post(agent_file="agent.py", first_k=0)
            assert status == 400

    asyncio.run(main())
    assert read_jsonl(tmp_path / "dev_evals.jsonl") == []


def test_one_evaluation_at_a_time_and_kill_running(tmp_path):
    async def main():
        async with serving(tmp_path) as s:
            (s.workspace / "slow.py").write_text(SLOW_AGENT)
            first = asyncio.ensure_future(s.post(agent_file="slow.py", timeout=25))
            for _ in range(100):
                if (await s.get("/budget"))["running"]:
                    break
                await asyncio.sleep(0.05)
            status, body = await s.post(agent_file="agent.py")
            assert status == 409 and "kill_running" in body["error"]
            status, replacement = await s.post(agent_file="agent.py", first_k=2, kill_running=True)
            assert status == 200 and replacement["success"] is True and replacement["total"] == 2
            status, killed = await first
            assert status == 200 and killed["success"] is False and "killed" in killed["error"]
            return s.evidence.records()

    evidence = asyncio.run(main())
    rows = read_jsonl(tmp_path / "dev_evals.jsonl")
    assert [(r["agent_file"], r["killed"]) for r in rows] == [("slow.py", True), ("agent.py", False)]
    assert any(e["kind"] == "eval_refused_busy" for e in evidence)


def test_many_tiny_first_k_probes_are_flagged(tmp_path):
    async def main():
        async with serving(tmp_path, probe_threshold=3) as s:
            for _ in range(4):
                status, body = await s.post(agent_file="agent.py", first_k=1)
                assert status == 200 and body["total"] == 1
            return s.evidence.records()

    flagged = [e for e in asyncio.run(main()) if e["kind"] == "probe_pattern"]
    assert len(flagged) == 1 and flagged[0]["count"] == 3 and flagged[0]["source"] == "evaluation"


WRONG_AGENT = '''
from mac.sdk import BaseAgent, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, "-1") for p in problems]
'''


def test_memory_keeps_recent_summaries_and_the_best_while_the_log_keeps_all(tmp_path):
    async def main():
        async with serving(tmp_path, history_kept=2) as s:
            (s.workspace / "wrong.py").write_text(WRONG_AGENT)
            statuses = [(await s.post(agent_file="wrong.py"))[0]]  # the only full-split run: the best
            for _ in range(4):
                statuses.append((await s.post(agent_file="wrong.py", first_k=2))[0])
            assert statuses == [200] * 5
            budget = await s.get("/budget")
            return s.service, budget, read_jsonl(s.log_path)

    service, budget, logged = asyncio.run(main())
    assert service.evaluations == budget["evaluations"] == len(logged) == 5
    assert [h["run_id"] for h in service.history] == [e["run_id"] for e in logged[-2:]]
    assert service.best()["run_id"] == logged[0]["run_id"] and service.best()["total"] == 6
