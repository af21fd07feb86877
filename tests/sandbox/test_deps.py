"""Artifact dependencies: parsed (never executed) in the controller, installed inside a role "install" sandbox,
offline unless the package index is allowed, and then only through the allowlisting CONNECT proxy."""

from __future__ import annotations

import asyncio
import json
import socket
import textwrap
import threading

import pytest

from mac.egress import EGRESS_PORT

from mac.errors import ConfigError
from mac.evidence import EvidenceLog
from mac.sandbox.base import SandboxSpec
from mac.sandbox.bwrap import BwrapBackend
from mac.sandbox.deps import install_deps, layer_mounts, read_requirements

BACKEND = '''
import os, zipfile
def get_requires_for_build_wheel(config_settings=None):
    return []
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "localpkg-0.1-py3-none-any.whl"
    files = {"localpkg/__init__.py": "VALUE = 42\\n",
             "localpkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\\nName: localpkg\\nVersion: 0.1\\n",
             "localpkg-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    files["localpkg-0.1.dist-info/RECORD"] = "".join(f"{p},,\\n" for p in files) + "localpkg-0.1.dist-info/RECORD,,\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return name
'''


def _workspace(box, dependencies):
    ws = box / "ws"
    (ws / "localpkg").mkdir(parents=True)
    (ws / "localpkg" / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["."]
        [project]
        name = "localpkg"
        version = "0.1"
        '''))
    (ws / "localpkg" / "backend.py").write_text(BACKEND)
    (ws / "pyproject.toml").write_text(f"[project]\nname = 'artifact'\nversion = '0'\ndependencies = {json.dumps(dependencies)}\n")
    return ws


def test_requirements_are_plain_strings(box):
    (box / "pyproject.toml").write_text("[project]\ndependencies = ['numpy>=1.26', 'pkg @ file:///workspace/pkg']\n")
    assert read_requirements(box) == ["numpy>=1.26", "pkg @ file:///workspace/pkg"]
    for bad in ("--index-url=http://evil", "-e .", "x\\n--extra-index-url y"):
        (box / "pyproject.toml").write_text(f"[project]\ndependencies = [{json.dumps(bad)}]\n")
        with pytest.raises(ValueError, match="not a plain requirement"):
            read_requirements(box)
    (box / "pyproject.toml").unlink()
    assert read_requirements(box) == []


def test_local_project_installs_offline_and_imports_in_a_later_run(bwrap_backend, box):
    ws = _workspace(box, ["localpkg @ file:///workspace/localpkg"])

    async def main():
        layer = await install_deps(bwrap_backend, ws, box / "deps", allow_package_index=False)
        binds, env = layer_mounts(layer)
        run = await bwrap_backend.run(SandboxSpec(label="artifact", argv=["python", "-c", "import localpkg; print(localpkg.VALUE)"],
                                                  extra_binds=binds, env=env))
        return layer, run

    layer, run = asyncio.run(main())
    assert layer.installed, layer.message
    assert run.stdout == "42\n"


def test_index_packages_without_permission_give_a_message(bwrap_backend, box):
    ws = _workspace(box, ["sympy==1.13.3"])
    layer = asyncio.run(install_deps(bwrap_backend, ws, box / "deps", allow_package_index=False))
    assert not layer.installed and layer.path is None
    assert "--allow-package-index" in layer.message and "runs without them" in layer.message
    assert layer_mounts(layer) == ([], {})


def test_package_index_access_goes_through_the_allowlist_only(box):
    """The proxy tunnels CONNECT to allowed host:port pairs (here a loopback stand-in for the index)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def echo_once():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"index says " + conn.recv(100))

    thread = threading.Thread(target=echo_once, daemon=True)
    thread.start()
    evidence = EvidenceLog()
    backend = BwrapBackend(evidence=evidence, package_index_hosts=[f"127.0.0.1:{port}"])
    script = textwrap.dedent(f"""
        import json, os, socket
        def tunnel(target, payload):
            s = socket.create_connection(("127.0.0.1", {EGRESS_PORT}), timeout=10)
            s.sendall(f"CONNECT {{target}} HTTP/1.1\\r\\nHost: {{target}}\\r\\n\\r\\n".encode())
            head = s.recv(4096).decode()
            body = b""
            if " 200 " in head.split("\\r\\n")[0]:
                s.sendall(payload)
                body = s.recv(100)
            return [head.split("\\r\\n")[0], body.decode()]
        print(json.dumps({{"allowed": tunnel("127.0.0.1:{port}", b"hello"),
                          "denied": tunnel("example.com:443", b""),
                          "proxy_env": os.environ["HTTPS_PROXY"]}}))
        """)
    spec = SandboxSpec(label="install", role="install", argv=["python", "-c", script], allow_package_index=True)
    try:
        result = asyncio.run(backend.run(spec))
    finally:
        thread.join(5)
        server.close()
    out = json.loads(result.stdout)
    assert out["allowed"] == ["HTTP/1.1 200 Connection established", "index says hello"]
    assert out["denied"] == ["HTTP/1.1 403 Forbidden", ""]
    assert out["proxy_env"] == f"http://127.0.0.1:{EGRESS_PORT}"
    assert [e["target"] for e in evidence.records("egress_denied")] == ["example.com:443"]
    with pytest.raises(ConfigError, match="only for role 'install'"):
        asyncio.run(backend.run(SandboxSpec(label="x", argv=["true"], allow_package_index=True)))
