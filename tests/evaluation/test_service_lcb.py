"""The evaluation service on `lcb` answers what MAC's LCB API does: case_timeout fixed at 10, covered, coverage,
per-test statuses, and never the program's code."""

from __future__ import annotations

import asyncio

from svckit import serving

from mac.domains.base import get_domain


def test_lcb_evaluation_api_fields(tmp_path, monkeypatch):
    monkeypatch.setenv("MAC_DATA", str(tmp_path / "no-data"))  # the built-in fixtures

    async def main():
        async with serving(tmp_path, n_dev=4, domain_name="lcb") as served:
            (served.workspace / "agent.py").write_text((get_domain("lcb").baseline("naive") / "agent.py").read_text())
            info = await served.get("/info")
            assert info["case_timeout"] == 10 and "case_timeout" in info["endpoints"]["POST /evaluate/agent"]["request"]
            assert {"covered", "coverage", "case_timeout"} <= set(info["endpoints"]["POST /evaluate/agent"]["response"])
            status, body = await served.post(agent_file="agent.py", split="eval", case_timeout=5)
            assert status == 400 and "fixed at 10 seconds" in body["error"]
            status, body = await served.post(agent_file="/workspace/agent.py", split="eval", first_k=3,
                                             timeout=120, case_timeout=10)
            assert status == 200 and body["success"], body.get("error")
            assert body["total"] == 3 and body["covered"] == 3 and body["coverage"] == 100.0
            assert body["case_timeout"] == 10 and body["predictions_content"] == ""
            assert all(d["pred"] is None and d["tests"] for d in body["detailed_results"])
            assert all(isinstance(d["idx"], str) for d in body["detailed_results"])
            code = (served.workspace / "agent.py").read_text()
            assert code[:40] not in str(body)

    asyncio.run(main())


def test_case_timeout_is_refused_where_nothing_runs_per_test(tmp_path):
    async def main():
        async with serving(tmp_path, n_dev=2) as served:
            status, body = await served.post(agent_file="agent.py", case_timeout=10)
            assert status == 400 and "code domains only" in body["error"]

    asyncio.run(main())
