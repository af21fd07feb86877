"""run_artifact on real artifacts in a real sandbox, with the sim behind a real gateway: honest, MAC-style and
broken artifacts all give a clear error or a scored (partial) result, never a crash."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from runkit import SIM_AGENT, arith_records, run, write_artifact

from mac.sandbox.base import SandboxProcess


def test_honest_agent_is_scored_with_usage_and_sim_label(tmp_path):
    ran = run(write_artifact(tmp_path / "a", SIM_AGENT))
    r = ran.result
    assert r.success and r.error is None and not r.partial and not r.timed_out
    assert r.total == 4 and len(r.scores) == 4 and r.correct == sum(r.scores) and r.correct >= 1  # sim greedy: ~2.5 expected
    assert r.accuracy == pytest.approx(100 * r.correct / 4)
    assert r.missing_predictions == [] and r.simulated
    assert r.usage.requests == 4 == ran.gateway_usage.requests and r.usage.output_tokens > 0
    assert [d["idx"] for d in r.detailed_results] == [0, 1, 2, 3]
    assert all(set(d) == {"idx", "pred", "normalized", "correct", "explanation"} for d in r.detailed_results)
    assert [p["idx"] for p in json.loads(r.predictions_content)] == [0, 1, 2, 3]


def test_first_k_asks_only_the_first_problems(tmp_path):
    r = run(write_artifact(tmp_path / "a", SIM_AGENT), first_k=2).result
    assert r.total == 2 and len(r.detailed_results) == 2 and r.usage.requests == 2


def test_mac_style_artifact_is_built_with_the_gateway_settings(tmp_path):
    agent = """
    from base_agent import BaseAIMEAgent, Problem, Prediction
    from openai_helper import OpenAIHelper

    class Mine(BaseAIMEAgent):
        def solve(self, problems, timeout_sec=21600):
            helper = OpenAIHelper()
            helper.chat([{"role": "user", "content": problems[0].question}])
            seen = f"{self.api_base}|{self.model}|{self.api_key == helper.api_key != ''}|{helper.base_url}"
            return [Prediction(idx=p.idx, pred=seen) for p in problems]
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert r.success, r.error
    base, model, same_key, helper_base = r.detailed_results[0]["pred"].split("|")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base) and helper_base == base  # 8000 in a sandbox
    assert model == "sim" and same_key == "True"
    assert r.usage.requests == 1


def test_artifact_given_as_the_agent_file(tmp_path):
    folder = write_artifact(tmp_path / "a", "raise SystemExit('not me')\n", files={"other_agent.py": SIM_AGENT})
    r = run(folder / "other_agent.py").result
    assert r.success and r.total == 4


@pytest.mark.parametrize("source, message", [
    ("def broken(:\n", "SyntaxError"),
    ("X = 1\n", "defines no agent class"),
    ("from mac.sdk import BaseAgent\nclass A(BaseAgent):\n    def solve(self, p, t): return []\n"
     "class B(BaseAgent):\n    def solve(self, p, t): return []\n", "2 agent classes"),
])
def test_unloadable_artifacts_fail_clearly(tmp_path, source, message):
    r = run(write_artifact(tmp_path / "a", source)).result
    assert not r.success and message in r.error
    assert r.accuracy == 0 and r.correct == 0 and r.total == 4 and r.missing_predictions == [0, 1, 2, 3]
    assert r.partial and not r.timed_out


def test_missing_artifact_is_an_error_result(tmp_path):
    (tmp_path / "empty").mkdir()
    r = run(tmp_path / "empty").result
    assert not r.success and "no agent.py" in r.error and r.total == 4


def test_exception_in_solve_scores_what_was_made_before(tmp_path):
    records = arith_records()
    agent = f"""
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(0, "{records[0].answer}")
            raise RuntimeError("crashed halfway")
    """
    r = run(write_artifact(tmp_path / "a", agent), records=records).result
    assert r.success and r.partial and r.error == "RuntimeError: crashed halfway"
    assert r.scores == [1, 0, 0, 0] and r.missing_predictions == [1, 2, 3]
    assert "crashed halfway" in r.artifact_stderr or r.artifact_stderr == ""


def test_invalid_predictions_are_wrong_with_explanations(tmp_path):
    records = arith_records()
    a0, a1, a2 = (r.answer for r in records[:3])
    agent = f"""
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(0, int("{a0}")),                           # not a string
                    Prediction(1, "{a1}"), Prediction(1, "{a1}"),         # duplicate idx
                    Prediction(2, "{a2}"),                                # fine
                    Prediction(77, "{a0}"), Prediction("3", "{a0}"),      # unknown idx, idx not an int
                    Prediction(3.0, "{a0}")]                              # neither int nor str: its repr
    """
    r = run(write_artifact(tmp_path / "a", agent), records=records).result
    assert r.success and r.scores == [0, 0, 1, 0] and r.missing_predictions == [3]
    by_idx = {d["idx"]: d for d in r.detailed_results}
    assert by_idx[0]["explanation"].startswith("prediction is int, not str") and by_idx[0]["pred"] is None
    assert by_idx[1]["explanation"].startswith("2 predictions for idx 1")
    assert by_idx[3]["explanation"] == "missing prediction"
    assert [i["explanation"] for i in r.invalid_predictions] == [
        "unknown idx 77: the problems asked are 0..3", "idx '3' is not an integer", "idx 3.0 is not an integer"]
    # the run's error names each real problem and its fix, not just "wrong"
    assert r.error == ("Prediction.idx was 1 x str, 1 x float: use the problem's own idx (p.idx), type included; "
                       "Prediction.pred was 1 x int: answers must be strings: pred=str(answer)")


def test_items_that_are_not_predictions_are_named_as_such(tmp_path):
    agent = """
    from mac.sdk import BaseAgent

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [{"idx": p.idx, "pred": "1"} for p in problems]   # dicts, not Prediction objects
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert not r.success and r.correct == 0 and r.missing_predictions == [0, 1, 2, 3]
    assert r.error == ("solve returned 4 x dict instead of Prediction objects: "
                       "return [Prediction(idx=p.idx, pred=str(answer)), ...]")
    assert {i["explanation"] for i in r.invalid_predictions} == {"a dict is not a Prediction(idx, pred)"}


def test_a_raising_artifact_shows_its_traceback_without_secrets(tmp_path):
    agent = """
    import os
    from mac.sdk import BaseAgent

    def helper(key):
        raise RuntimeError(f"boom with key {key} and sk-abcdefghijklmnopqrstuvwx")

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            helper(os.environ["TASK_MODEL_API_KEY"])
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert not r.success and r.error.startswith("RuntimeError: boom with key ***")
    tb = r.traceback
    assert tb.startswith("Traceback (most recent call last):")
    assert 'agent.py", line 10, in solve' in tb and 'agent.py", line 6, in helper' in tb, tb
    assert "mac/sdk/run.py" not in tb  # the runner's own frames are not the artifact's
    assert tb.rstrip().endswith("RuntimeError: boom with key *** and ***"), tb
    assert "mac-" not in tb and "sk-abc" not in tb and "sk-abc" not in r.artifact_stderr


def test_timeout_keeps_partial_predictions(tmp_path):
    records = arith_records()
    agent = f"""
    import time
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(1, "{records[1].answer}")
            time.sleep(600)
    """
    started = time.monotonic()
    r = run(write_artifact(tmp_path / "a", agent), records=records, timeout=2).result
    assert time.monotonic() - started < 20
    assert r.success and r.timed_out and r.partial and r.scores == [0, 1, 0, 0]
    assert "did not return within 2s" in r.error


def test_artifact_that_defeats_the_deadline_is_killed_at_the_wall(tmp_path):
    agent = """
    import os
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(0, "1")
            os.execv("/bin/sleep", ["sleep", "300"])   # replaces the process, watchdog included
    """
    started = time.monotonic()
    r = run(write_artifact(tmp_path / "a", agent), timeout=1).result
    assert time.monotonic() - started < 30
    assert not r.success and r.timed_out and r.partial
    assert r.error.startswith("no output: no result file; it was killed at the wall limit")
    assert any(e.get("kind") == "wall_timeout" for e in r.events)


def test_huge_result_file_is_refused_not_read(tmp_path):
    agent = """
    import os, sys
    from mac.sdk import BaseAgent

    OUT = sys.argv[sys.argv.index("--out") + 1]   # /mac/out/result.json in a sandbox

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            with open(OUT, "w") as fh:
                fh.write('{"predictions": [' + '{"idx": 0, "pred": "1"},' * 1_600_000 + '{"idx": 0, "pred": "1"}]}')
            os._exit(0)
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert not r.success and "over the" in r.error and "byte cap" in r.error
    assert r.missing_predictions == [0, 1, 2, 3]


@pytest.mark.parametrize("content", ['[1, 2]', '{"predictions": "no"}', 'not json', '[' * 100_000])
def test_malformed_result_files_are_reported(tmp_path, content):
    agent = f"""
    import os, sys
    from mac.sdk import BaseAgent

    OUT = sys.argv[sys.argv.index("--out") + 1]   # /mac/out/result.json in a sandbox

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            open(OUT, "w").write({content!r})
            os._exit(0)
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert not r.success and r.error.startswith("no output: result file")


def test_result_symlink_is_not_followed(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"predictions": [{"idx": 0, "pred": "leaked"}]}')
    agent = f"""
    import os, sys
    from mac.sdk import BaseAgent

    OUT = sys.argv[sys.argv.index("--out") + 1]   # /mac/out/result.json in a sandbox

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            os.symlink({str(secret)!r}, OUT)
            os._exit(0)
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert not r.success and "leaked" not in r.model_dump_json()


def test_huge_stderr_is_capped(tmp_path):
    agent = """
    import sys
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            sys.stderr.write("e" * 5_000_000)
            return [Prediction(p.idx, "1") for p in problems]
    """
    r = run(write_artifact(tmp_path / "a", agent)).result
    assert r.success and len(r.artifact_stderr) < 10_000
    assert r.artifact_stderr.endswith("[stderr truncated by the sandbox output cap]")


def test_on_start_lets_the_caller_kill_the_run(tmp_path):
    agent = """
    import time
    from mac.sdk import BaseAgent

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            time.sleep(600)
    """
    started = time.monotonic()

    def on_start(process: SandboxProcess) -> None:
        import asyncio

        asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(process.kill("test")))

    r = run(write_artifact(tmp_path / "a", agent), timeout=120, on_start=on_start).result
    assert time.monotonic() - started < 30
    assert not r.success and "killed (test)" in r.error


def test_scratch_folders_are_removed(tmp_path):
    import tempfile

    from mac.paths import scratch_home

    with tempfile.TemporaryDirectory(dir=scratch_home()) as work:
        Path(work).chmod(0o711)
        ran = run(write_artifact(tmp_path / "a", SIM_AGENT), first_k=1, workdir=Path(work))
        assert ran.result.success and list(Path(work).iterdir()) == []


def test_work_folder_sandboxes_cannot_reach_is_refused_with_the_fix(tmp_path):
    import os

    from mac.errors import SandboxError

    if os.geteuid() != 0:
        pytest.skip("only root runs sandboxes as other uids")  # CI runs as root
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(SandboxError, match="not traversable by others"):
        run(write_artifact(tmp_path / "a", SIM_AGENT), first_k=1, workdir=private / "work")


def test_eval_artifact_refuses_the_unsandboxed_backend_for_test(tmp_path):
    import asyncio

    from mac.config import TaskModelSpec
    from mac.errors import ConfigError
    from mac.evaluation.runner import eval_artifact

    with pytest.raises(ConfigError, match="refused for the test split"):
        asyncio.run(eval_artifact(domain="arith", data=None, split="test", artifact=write_artifact(tmp_path, SIM_AGENT),
                                  task_model=TaskModelSpec.parse("sim"), sandbox="none"))


def test_eval_artifact_one_shot_on_test_in_the_sandbox(tmp_path):
    import asyncio

    from mac.config import TaskModelSpec
    from mac.evaluation.runner import eval_artifact

    artifact = write_artifact(tmp_path / "a", SIM_AGENT)
    r = asyncio.run(eval_artifact(domain="arith", data=None, split="test", artifact=artifact,
                                  task_model=TaskModelSpec.parse("sim"), first_k=3, timeout=60))
    assert r.success and r.split == "test" and r.total == 3 and r.usage.requests == 3 and r.simulated
