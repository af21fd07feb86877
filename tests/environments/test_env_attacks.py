"""Attacks on the agentic path, each of which must fail: reading the tests or the solution during the agent
phase, planting a reward (or a replacement test script), leaving a process behind to rewrite results during the
tests, image layers that escape the rootfs, and network from an environment whose task forbids it."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from envkit import entry, make_task, small_image, tar_layer, write_agent
from mac.config import TaskModelSpec
from mac.environments import oci
from mac.environments.base import EnvironmentSpec
from mac.environments.taskjob import run_tasks

MARKER = "MARKER-GROUND-TRUTH-5521"


def run_one(bwrap_env, task, agent):
    [result] = asyncio.run(run_tasks([task], agent=agent, task_model=TaskModelSpec.parse("sim"),
                                     env_backend=bwrap_env))
    return result


def test_agent_cannot_read_tests_or_solution(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"), solve=f"# {MARKER}\necho 42 > /app/answer.txt",
                     test=f"# {MARKER}\necho 1 > /logs/verifier/reward.txt")
    agent = write_agent(box / "agent", f"""
        import glob, os
        seen = []
        for cmd in ["ls -la /tests /solution /logs/verifier", "cat /tests/test.sh /solution/solve.sh",
                    "grep -rl {MARKER} /app /etc /tmp /root /logs /run /var /opt /home /srv 2>/dev/null | head",
                    "find / -xdev \\( -name test.sh -o -name solve.sh \\) -print 2>/dev/null"]:
            r = await environment.exec(cmd, timeout_sec=60)
            seen.append(r.stdout + r.stderr)
        mine = [p for d in ("/workspace", "/mac", "/tmp", "/run") for p in glob.glob(d + "/**/*", recursive=True)]
        context.metadata = {{"seen": seen, "own_sandbox": mine, "env": dict(os.environ)}}
    """)
    result = run_one(bwrap_env, task, agent)
    assert result.agent.ok, result.agent
    assert MARKER not in json.dumps(result.agent.context)
    assert "No such file" in result.agent.context["metadata"]["seen"][0]
    assert str(task) not in json.dumps(result.agent.context)  # the task folder's host path is nowhere in sight
    assert result.reward == 1.0  # the tests did run afterwards, with their own files


def test_planted_reward_and_test_script_do_not_count(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"))
    agent = write_agent(box / "agent", """
        await environment.exec("mkdir -p /logs/verifier /tests && echo 1 > /logs/verifier/reward.txt && "
                               "echo '{\\"reward\\": 1}' > /logs/verifier/reward.json && "
                               "printf '#!/bin/sh\\\\necho 1 > /logs/verifier/reward.txt\\\\n' > /tests/test.sh && "
                               "chmod +x /tests/test.sh")
    """)
    result = run_one(bwrap_env, task, agent)
    assert [c["returncode"] for c in result.exec_log] == [0]  # the planting itself succeeded
    assert result.reward == 0.0 and result.tests.rewards == {"reward": 0.0}


def test_process_left_behind_cannot_touch_the_test_phase(bwrap_env, box):
    test = "echo 0 > /logs/verifier/reward.txt; sleep 1.5; cat /app/tamper-count 2>/dev/null > /logs/verifier/seen"
    task = make_task(box / "task", small_image(box / "image"), test=test)
    agent = write_agent(box / "agent", """
        import subprocess, sys
        loop = ("while true; do echo 1 > /logs/verifier/reward.txt 2>/dev/null; "
                "n=$(cat /app/tamper-count 2>/dev/null || echo 0); echo $((n+1)) > /app/t.tmp; "
                "mv /app/t.tmp /app/tamper-count; sleep 0.05; done")
        await environment.exec(f"mkdir -p /logs/verifier; nohup sh -c '{loop}' > /dev/null 2>&1 &")
        # and one left in the agent's own sandbox, to reach the environment once the agent is gone
        later = "import socket, time; time.sleep(1); s = socket.create_connection(('127.0.0.1', 8001)); " \\
                "s.sendall(b'{\\"op\\": \\"exec\\", \\"command\\": \\"echo 1 > /logs/verifier/reward.txt\\"}\\\\n'); s.recv(99)"
        subprocess.Popen([sys.executable, "-c", later], start_new_session=True)
        import asyncio
        await asyncio.sleep(0.5)
        count = await environment.exec("cat /app/tamper-count")
        context.metadata = {"count": count.stdout}
    """)
    result = run_one(bwrap_env, task, agent)
    assert int(result.agent.context["metadata"]["count"]) > 0, (result.agent, result.exec_log)  # the loop ran
    assert result.reward == 0.0, result.tests
    assert len(result.exec_log) == 2  # the late call from the artifact's sandbox never arrived


def test_escaping_layers_stay_inside_an_environment(bwrap_env, box):
    outside = box / "host-side"
    outside.mkdir()
    (outside / "secret").write_text("host secret")
    layers = [tar_layer([entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
                         entry("escape", b"2", link=str(outside)), entry("../../pwned", data=b"x")]),
              tar_layer([entry("escape/planted", data=b"x"), entry("dev/evil", b"3")])]
    oci.write_layout(box / "evil-image", layers)

    async def body():
        spec = EnvironmentSpec(image=f"oci:{box / 'evil-image'}", host_runtime=True)
        async with await bwrap_env.start(spec) as env:
            return await env.exec(f"cat /escape/secret {outside}/secret; ls /dev/evil; echo done")

    result = asyncio.run(body())
    assert "host secret" not in result.stdout and result.stdout.endswith("done\n")
    assert sorted(os.listdir(outside)) == ["secret"] and not (box.parent / "pwned").exists()


def test_no_network_when_the_task_forbids_it(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"))
    agent = write_agent(box / "agent", """
        probe = ("import socket\\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\\n"
                 "try:\\n    s.connect(('192.0.2.1', 53)); print('route')\\n"
                 "except OSError as exc:\\n    print('no route', exc.errno)\\n"
                 "import os; print(sorted(k for k in os.environ if 'PROXY' in k.upper()))")
        r = await environment.exec(["python3", "-c", probe])
        context.metadata = {"probe": r.stdout}
    """)
    result = run_one(bwrap_env, task, agent)
    assert result.agent.context["metadata"]["probe"] == "no route 101\n[]\n"


def test_dev_cannot_be_filled_but_dev_shm_is_bounded(bwrap_env, box):
    async def body():
        spec = EnvironmentSpec(image=f"oci:{small_image(box / 'image')}", host_runtime=True)
        async with await bwrap_env.start(spec) as env:
            dev = await env.exec("head -c 1048576 /dev/zero > /dev/fill; echo $?")
            shm = await env.exec("head -c 200000000 /dev/zero > /dev/shm/fill 2>/dev/null; echo $?; "
                                 "du -m /dev/shm/fill | cut -f1")
            return dev, shm

    dev, shm = asyncio.run(body())
    assert dev.stdout.strip() != "0" and "Read-only" in dev.stderr
    code, size = shm.stdout.split()
    assert code != "0" and int(size) <= 64  # the environment's shm_mb


def test_an_image_passwd_with_odd_ids_is_not_a_crash(tmp_path):
    """The image's /etc/passwd is untrusted: ids that are not ASCII numbers are ignored, not fed to int()."""
    from mac.environments.files import resolve_user

    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nodd:x:\u00b2:1::/home/odd:/bin/sh\n"
                                              "ok:x:1001:1002::/home/ok:/bin/sh\n")
    assert resolve_user(tmp_path, "ok") == (1001, 1002, "/home/ok")
    assert resolve_user(tmp_path, "1001:\u00b2") == (1001, 1002, "/home/ok")
    with pytest.raises(Exception, match="not in its /etc/passwd"):
        resolve_user(tmp_path, "odd")
