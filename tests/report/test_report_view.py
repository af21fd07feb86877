"""`mac view`: the job list and each job's report over real HTTP on 127.0.0.1, regenerated per request."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import urllib.request

import aiohttp
import pytest

from mac.report.server import serve
from mac.store import Score, TrialResult, write_json_atomic
from reportkit import XSS, standard_job, write_baseline, write_trial


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, dict]:
    async with session.get(url) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


def test_view_lists_jobs_and_follows_running_trials(tmp_path):
    jobs = tmp_path / "jobs"
    standard_job(jobs)
    write_trial(jobs, "job2", "only", test=90.0)
    write_baseline(jobs, kind="naive", seed=0, accuracy=10.0)  # the baselines folder is not a job

    async def scenario() -> None:
        runner, port = await serve(jobs, port=0)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                status, index, headers = await _get(session, base + "/")
                assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
                assert 'href="/job/job1"' in index and 'href="/job/job2"' in index and "/job/baselines" not in index
                assert 'http-equiv="refresh"' in index  # job1 has a running trial

                status, page, _ = await _get(session, base + "/job/job1")
                assert status == 200 and 'http-equiv="refresh"' in page and "Trial job1 / other-0" in page
                assert XSS not in page
                _, page2, _ = await _get(session, base + "/job/job2")
                assert 'http-equiv="refresh"' not in page2  # nothing running: no reload

                # the running trial finishes; the next request shows it and stops reloading
                result_path = jobs / "job1" / "other-0" / "result.json"
                result = TrialResult.load(result_path)
                write_json_atomic(result_path, result.model_copy(update={"status": "completed",
                                                                         "test": Score(accuracy=55.0, total=20)}))
                _, page, _ = await _get(session, base + "/job/job1")
                assert 'http-equiv="refresh"' not in page and ">55.0<" in page

                status, body, headers = await _get(session, base + "/job/job1/report.json")
                data = json.loads(body)
                other = next(c for c in data["configs"] if c["meta_agent"] == "other")
                assert status == 200 and other["test"]["mean"] == 47.5 and other["running"] == 0

                for bad in ("/job/nope", "/job/baselines", "/job/..%2F..%2Fetc", "/job/.hidden"):
                    status, _, _ = await _get(session, base + bad)
                    assert status == 404, bad
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_mac_view_command_serves_until_stopped(tmp_path, stop_signal):
    standard_job(tmp_path / "jobs")
    proc = subprocess.Popen([sys.executable, "-c", "from mac.cli import app; app()", "view", str(tmp_path / "jobs"),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "job/job1", timeout=30) as resp:
            page = resp.read()
            assert resp.status == 200 and b"Leaderboard" in page and b'href="/">All jobs' in page
    finally:
        proc.send_signal(stop_signal)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped" in err
