"""The in-environment server: runs inside a task environment's sandbox and executes what the controller asks.

    PYTHONHOME=... python -S -s -B envd.py CTL_DIR

Stdlib only, and started with the host's interpreter (bound read-only under /.mac/host), so an image needs no
Python, not even a shell for argv commands. It is as untrusted as anything in the environment: the controller
validates what it answers. It reads CTL_DIR/config.json ({"env", "workdir", "output_bytes", "relays"}), listens
on CTL_DIR/env.sock and answers one JSON object per line on each connection:

    {"op": "ping"}                                          -> {"ok": true}
    {"op": "exec", "argv"|"command", "cwd", "env", "timeout", "stdin"}
                                                            -> {"ok", "returncode", "stdout", "stderr",
                                                                "stdout_truncated", "stderr_truncated", "timed_out"}
    {"op": "write", "path", "data" (base64), "mode"}        -> {"ok"}          (parent folders are created)
    {"op": "read", "path", "max"}                           -> {"ok", "data"}  (error "too_large" past max)
    {"op": "tar_in", "path", "data" (base64 tar)}           -> {"ok"}          (unpacked into the folder)
    {"op": "tar_out", "path", "max"}                        -> {"ok", "data"}  (a tar of the folder)
    failures                                                -> {"ok": false, "error": TYPE, "message": TEXT}

Each command runs in its own session; at its timeout the whole group is killed. Output beyond `output_bytes`
per stream is drained and counted, not kept. Relays (egress, when the task allows network) reuse mac_init.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from base64 import b64decode, b64encode

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DRAIN_SEC = 0.5
POLL_SEC = 0.05


class Server:
    def __init__(self, ctl: str):
        with open(os.path.join(ctl, "config.json")) as fh:
            config = json.load(fh)
        self.env = {"PATH": DEFAULT_PATH, **config.get("env", {})}
        self.workdir = config.get("workdir") or "/"
        self.limit = int(config.get("output_bytes", 1 << 20))
        self.relays = [(int(p), s) for p, s in config.get("relays", [])]
        self.path = os.path.join(ctl, "env.sock")

    def serve(self) -> None:
        if self.relays:
            threading.Thread(target=run_relays, args=(self.relays,), daemon=True).start()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = self.path + ".new"
        listener.bind(tmp)
        os.chmod(tmp, 0o600)
        listener.listen(64)
        os.rename(tmp, self.path)  # appears whole: the controller connects only once it listens
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=self.connection, args=(conn,), daemon=True).start()

    def connection(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            for line in reader:
                try:
                    reply = self.handle(json.loads(line))
                except Exception as exc:  # every failure is an answer, never a dead connection
                    reply = {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000]}
                conn.sendall(json.dumps(reply).encode() + b"\n")

    def handle(self, req: dict) -> dict:
        op = req.get("op")
        if op == "ping":
            return {"ok": True}
        if op == "exec":
            return self.exec(req)
        if op == "write":
            return self.write(req)
        if op == "read":
            return self.read(req)
        if op in ("tar_in", "tar_out"):
            return self.tar(req)
        return {"ok": False, "error": "unknown_op", "message": f"unknown op {op!r}"}

    def tar(self, req: dict) -> dict:
        import io
        import tarfile  # only for transfers: keeps envd's start short

        if req["op"] == "tar_in":
            folder = req["path"]
            os.makedirs(folder, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(b64decode(req["data"])), mode="r:*") as tar:
                tar.extractall(folder)
            return {"ok": True}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(req["path"], arcname=".")
        return self._limited(buffer.getvalue(), req)

    def exec(self, req: dict) -> dict:
        argv = req.get("argv") or [shell(), "-c", req.get("command", "")]
        env = {**self.env, **(req.get("env") or {})}
        stdin = b64decode(req["stdin"]) if req.get("stdin") else None
        try:
            proc = subprocess.Popen(argv, cwd=req.get("cwd") or self.workdir, env=env, start_new_session=True,
                                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            return {"ok": True, "returncode": 127, "stdout": "", "stderr": f"{argv[0]}: {exc.strerror}\n",
                    "stdout_truncated": False, "stderr_truncated": False, "timed_out": False}
        if stdin is not None:
            threading.Thread(target=feed, args=(proc.stdin, stdin), daemon=True).start()
        out, err, timed_out = collect(proc, self.limit, req.get("timeout"))
        return {"ok": True, "returncode": proc.returncode, "stdout": out[0].decode("utf-8", "replace"),
                "stderr": err[0].decode("utf-8", "replace"), "stdout_truncated": out[1],
                "stderr_truncated": err[1], "timed_out": timed_out}

    def write(self, req: dict) -> dict:
        path = req["path"]
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(b64decode(req["data"]))
        if req.get("mode") is not None:
            os.chmod(path, int(req["mode"]))
        return {"ok": True}

    def read(self, req: dict) -> dict:
        limit = int(req.get("max", 64 << 20))
        with open(req["path"], "rb") as fh:
            data = fh.read(limit + 1)
        return self._limited(data, req)

    @staticmethod
    def _limited(data: bytes, req: dict) -> dict:
        if len(data) > int(req.get("max", 64 << 20)):
            return {"ok": False, "error": "too_large", "message": f"more than {req.get('max')} bytes"}
        return {"ok": True, "data": b64encode(data).decode()}


def shell() -> str:
    return "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"


def feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:
        pass


def collect(proc: subprocess.Popen, limit: int, timeout) -> tuple[tuple[bytes, bool], tuple[bytes, bool], bool]:
    """Read both pipes up to `limit` bytes each (the rest is drained), killing the group at `timeout`. Once the
    command exited, a background child still holding its pipes gets DRAIN_SEC before we stop reading."""
    sel = selectors.DefaultSelector()
    kept = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    dropped = {proc.stdout: False, proc.stderr: False}
    for pipe in kept:
        sel.register(pipe, selectors.EVENT_READ)
    deadline = time.monotonic() + float(timeout) if timeout else None
    timed_out, drain_until = False, None
    while sel.get_map():
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            timed_out, deadline = True, None
            kill_group(proc.pid)
        if drain_until is None and proc.poll() is not None:
            drain_until = now + DRAIN_SEC
        if drain_until is not None and now >= drain_until:
            break
        for key, _ in sel.select(POLL_SEC):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            room = max(limit - len(kept[key.fileobj]), 0)
            kept[key.fileobj] += chunk[:room]
            dropped[key.fileobj] |= len(chunk) > room
    sel.close()
    if deadline is not None:
        try:
            proc.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid)
    proc.wait()
    for pipe in kept:
        pipe.close()
    return ((bytes(kept[proc.stdout]), dropped[proc.stdout]), (bytes(kept[proc.stderr]), dropped[proc.stderr]),
            timed_out)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_relays(routes: list[tuple[int, str]]) -> None:
    import mac_init

    relay = mac_init.Relay(routes)
    while True:
        for key, mask in relay.sel.select():
            kind, path = key.data
            if kind == "listen":
                relay.accept(key.fileobj, path)
            else:
                relay.service(key.fileobj, mask)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    Server(sys.argv[1]).serve()
