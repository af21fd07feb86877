"""One behaviour suite for every environment backend of this machine. bwrap always runs; podman and docker run
where their CLI works and are otherwise reported as not run (a skip that says why), never as passed.

Known, justified differences are listed in KNOWN_DIFFERENCES and asserted as such (the other behaviour is checked,
not skipped)."""

from __future__ import annotations

import asyncio
import os

import pytest

from envkit import small_image
from mac.config import SandboxLimits
from mac.environments.base import EnvironmentSpec
from mac.environments.registry import backend_class
from mac.errors import EnvError

KNOWN_DIFFERENCES = {
    ("bwrap", "exec_user"): "one identity per environment (an unprivileged user namespace maps one uid): `user` "
                            "is recorded, and commands run as the image's user",
    ("podman", "timeout_kills_tree"): "the engine's exec client is killed at the timeout; what it started inside "
                                      "dies at restart or stop",
    ("docker", "timeout_kills_tree"): "as podman",
}

BACKENDS = ["bwrap", "podman", "docker"]


@pytest.fixture(params=BACKENDS)
def backend(request, bwrap_env, evidence):
    name = request.param
    if name == "bwrap":
        return bwrap_env
    ok, why = backend_class(name).available()
    if not ok:
        pytest.skip(f"{name} NOT RUN (not passed): {why}")
    return backend_class(name)(evidence=evidence)


@pytest.fixture
def image(box):
    return small_image(box / "image", {"app/data.bin": "seed\n"})


def start(backend, image, **fields):
    fields.setdefault("host_runtime", True)
    return backend.start(EnvironmentSpec(image=f"oci:{image}", label="conformance", **fields))


def run(coro):
    return asyncio.run(coro)


def test_exec_exit_codes_output_and_image_config(backend, image):
    async def body():
        async with await start(backend, image, env={"EXTRA": "x"}) as env:
            plain = await env.exec("echo out; echo err >&2; exit 3")
            argv = await env.exec(["printf", "%s|", "a b", "c"])
            missing = await env.exec(["/no/such/program"])
            config = await env.exec('echo "$GREETING $EXTRA $LOCAL $HOME"; pwd', env={"LOCAL": "l"})
            cwd = await env.exec(["pwd"], cwd="/etc")
            return plain, argv, missing, config, cwd

    plain, argv, missing, config, cwd = run(body())
    assert (plain.returncode, plain.stdout, plain.stderr) == (3, "out\n", "err\n")
    assert argv.stdout == "a b|c|" and missing.returncode in (126, 127)
    assert config.stdout == "hello x l /root\n/app\n" and cwd.stdout == "/etc\n"


def test_output_is_capped_per_stream(backend, image):
    async def body():
        async with await start(backend, image, limits=SandboxLimits(output_bytes=1000)) as env:
            return await env.exec("head -c 300000 /dev/zero | tr '\\0' x; echo done >&2")

    result = run(body())
    assert result.returncode == 0 and len(result.stdout) == 1000 and result.stdout_truncated
    assert result.stderr == "done\n" and not result.stderr_truncated


def test_timeout_kills_the_whole_group(backend, image):
    async def body():
        async with await start(backend, image) as env:
            slow = await env.exec("sleep 30 & sleep 30; echo never", timeout=0.5)
            await asyncio.sleep(0.2)
            left = await env.exec("ps -eo args= | grep -c '^sleep 30$' || true")
            return slow, left

    slow, left = run(body())
    assert slow.timed_out and slow.returncode != 0 and "never" not in slow.stdout
    if (backend.name, "timeout_kills_tree") not in KNOWN_DIFFERENCES:
        assert left.stdout.strip() == "0"


def test_files_persist_and_transfer_both_ways(backend, image, box):
    payload = bytes(range(256)) * 40
    (box / "up").mkdir()
    (box / "up" / "blob").write_bytes(payload)
    (box / "up" / "sub").mkdir()
    (box / "up" / "sub" / "note.txt").write_text("note")

    async def body():
        async with await start(backend, image) as env:
            await env.upload_file(box / "up" / "blob", "/work/in/blob")
            await env.upload_dir(box / "up", "/work/tree")
            await env.exec("echo made > /app/made.txt && ln -s /etc/passwd /work/tree/link")
            later = await env.exec(["cat", "/app/made.txt"])
            await env.download_file("/work/in/blob", box / "down" / "blob")
            await env.download_dir("/work/tree", box / "down" / "tree")
            with pytest.raises(EnvError):
                await env.download_file("/no/such/file", box / "down" / "nothing")
            return later

    assert run(body()).stdout == "made\n"
    assert (box / "down" / "blob").read_bytes() == payload
    assert (box / "down" / "tree" / "sub" / "note.txt").read_text() == "note"
    assert not os.path.lexists(box / "down" / "tree" / "link")  # a link out of the environment is dropped


def test_restart_kills_processes_and_keeps_files(backend, image):
    async def body():
        async with await start(backend, image) as env:
            await env.exec("echo kept > /app/kept.txt; (sleep 300 > /dev/null 2>&1 &)")
            before = await env.exec("ps -eo args= | grep -c '^sleep 300$' || true")
            await env.restart()
            after = await env.exec("ps -eo args= | grep -c '^sleep 300$' || true; cat /app/kept.txt")
            return before, after

    before, after = run(body())
    assert before.stdout.strip() == "1" and after.stdout == "0\nkept\n"


def test_attempts_never_write_the_image(backend, image):
    async def body():
        async with await start(backend, image) as env:
            await env.exec("echo changed > /app/README; rm /app/data.bin")
        async with await start(backend, image) as env:
            return await env.exec("cat /app/README /app/data.bin")

    assert run(body()).stdout == "tiny image\nseed\n"


def test_no_network_unless_allowed(backend, image):
    probe = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "try:\n    s.connect(('192.0.2.1', 53)); print('route', s.getsockname()[0])\n"
             "except OSError as exc:\n    print('no route', exc.errno)\n")

    async def body():
        async with await start(backend, image) as env:
            return await env.exec(["python3", "-c", probe])

    result = run(body())
    assert result.stdout.startswith("no route"), result


def test_user_of_the_image(backend, box):
    image = small_image(box / "userimage", user="builder")

    async def body():
        async with await start(backend, image) as env:
            return await env.exec(["id", "-u"]), await env.exec(["id", "-u"], user="root")

    as_image, as_root = run(body())
    assert as_image.stdout == "1000\n"
    if (backend.name, "exec_user") in KNOWN_DIFFERENCES:
        assert as_root.stdout == "1000\n"
    else:
        assert as_root.stdout == "0\n"


def test_stopped_environment_refuses_calls(backend, image):
    async def body():
        env = await start(backend, image)
        await env.stop()
        await env.stop()  # idempotent
        with pytest.raises(EnvError):
            await env.exec("true")

    run(body())
