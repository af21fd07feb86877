"""A build step of an artifact dependency (an in-tree PEP 517 backend, as any sdist can have) looks for secrets
while it runs: the answers by path, the controller's environment and processes, the network. It runs inside the
install sandbox, so it finds nothing, and the controller never executes it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import textwrap

from attackkit import assert_controller_works
from mac.sandbox.base import SandboxSpec
from mac.sandbox.deps import install_deps, layer_mounts

MARKER = "ANSWER-MARKER-build-2d7"
KEY = "sk-upstream-build-SECRET"

BACKEND = '''
import glob, json, os, socket, zipfile
def get_requires_for_build_wheel(config_settings=None):
    return []
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    marker, key, secret, port = json.load(open(os.path.join(os.path.dirname(__file__), "targets.json")))
    marker, key = marker[::-1], key[::-1]
    found = {"ran": True, "uid": os.getuid()}
    try:
        found["secret"] = open(secret).read()
    except OSError as exc:
        found["secret"] = type(exc).__name__
    blobs = [json.dumps(dict(os.environ))]
    for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
        try:
            blobs.append(open(path, "rb").read().decode("latin-1"))
        except OSError:
            pass
    found["key_seen"] = any(key in b for b in blobs)
    found["marker_seen"] = any(marker in b for b in blobs)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3)
        found["loopback"] = "connected"
    except OSError as exc:
        found["loopback"] = exc.errno
    name = "evilpkg-0.1-py3-none-any.whl"
    files = {"evilpkg/__init__.py": "FOUND = " + repr(json.dumps(found)) + "\\n",
             "evilpkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\\nName: evilpkg\\nVersion: 0.1\\n",
             "evilpkg-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    files["evilpkg-0.1.dist-info/RECORD"] = "".join(f"{p},,\\n" for p in files) + "evilpkg-0.1.dist-info/RECORD,,\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return name
'''


def test_build_step_finds_no_secret(bwrap_backend, box, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    secret = tmp_path / "answers.txt"
    secret.write_text(MARKER)
    server = socket.create_server(("127.0.0.1", 0))
    ws = box / "ws"
    pkg = ws / "evilpkg"
    pkg.mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["."]
        [project]
        name = "evilpkg"
        version = "0.1"
        '''))
    (pkg / "backend.py").write_text(BACKEND)
    # the targets, with the marker and key reversed so this file itself does not contain them
    (pkg / "targets.json").write_text(json.dumps([MARKER[::-1], KEY[::-1], str(secret), server.getsockname()[1]]))
    (ws / "pyproject.toml").write_text("[project]\nname = 'a'\nversion = '0'\n"
                                       "dependencies = ['evilpkg @ file:///workspace/evilpkg']\n")

    async def main():
        layer = await install_deps(bwrap_backend, ws, box / "deps", allow_package_index=False)
        binds, env = layer_mounts(layer)
        run = await bwrap_backend.run(SandboxSpec(label="artifact", argv=["python", "-c", "import evilpkg; print(evilpkg.FOUND)"],
                                                  extra_binds=binds, env=env))
        return layer, run

    try:
        layer, run = asyncio.run(main())
    finally:
        server.close()
    assert layer.installed, layer.message
    found = json.loads(run.stdout)
    assert found["ran"] is True and found["uid"] == 1000  # the build step did run, as the sandbox user
    assert found["secret"] == "FileNotFoundError"
    assert found["key_seen"] is False and found["marker_seen"] is False
    assert found["loopback"] == 111  # ECONNREFUSED: the host's loopback is another network namespace
    layer_text = "".join(p.read_text(errors="replace") for p in layer.path.rglob("*") if p.is_file())
    assert MARKER not in layer_text and KEY not in layer_text
    assert os.stat(secret).st_uid == os.geteuid()
    assert_controller_works(bwrap_backend)
