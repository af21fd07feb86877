"""The bwrap environment backend (the default): an image's rootfs under a per-attempt copy-on-write overlay, in a
bubblewrap sandbox with the limits, seccomp, namespaces and cleanup of every MAC sandbox, driven through envd.

    <scratch>/env-XXXX/               one attempt (removed at stop)
        upper/ work/                  the overlay's writable layer and its work folder (same filesystem)
        ctl-N/                        the control folder of the N-th start: config.json and envd's socket
        egress/                       the egress proxy's socket, when the task allows network

The sandbox runs as the environments' uid (mac.sandbox.uids.environment_uid), which owns the image files, so
writes through the overlay work; the image's user is the uid seen inside. A bwrap without overlays (< 0.11) gets
a full copy of the rootfs per attempt instead (slow, but the same semantics).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mac import egress
from mac.environments import files
from mac.environments.base import EnvBind, Environment, EnvironmentBackend, EnvironmentSpec, ExecResult
from mac.environments.cache import Image, ImageCache
from mac.environments.client import EnvdClient
from mac.environments.hostpy import host_python, inside
from mac.environments.images import parse_ref
from mac.errors import EnvError, MacError
from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac.sandbox.base import Bind, Relay, RootfsView, SandboxSpec
from mac.sandbox.bwrap import BwrapBackend
from mac.sandbox.process import BwrapProcess
from mac.sandbox.uids import environment_uid

READY_TIMEOUT_SEC = 30.0
CTL = "/.mac/ctl"


class BwrapEnvBackend(EnvironmentBackend):
    name = "bwrap"
    isolated = True
    isolation = {"namespaces": ["user", "pid", "net", "ipc", "uts", "mount", "cgroup"], "seccomp": True,
                 "network": "none, or the egress allowlist", "root_filesystem": "overlay per attempt"}

    @classmethod
    def available(cls) -> tuple[bool, str]:
        from mac.sandbox.host import find_bwrap, userns_enabled

        try:
            find_bwrap()
        except MacError as exc:
            return False, str(exc)
        ok, why = userns_enabled()
        return ok, why and f"unprivileged user namespaces are disabled ({why})"

    def __init__(self, evidence: EvidenceLog | None = None, cache: ImageCache | None = None,
                 sandbox: BwrapBackend | None = None):
        self.evidence = evidence
        self.cache = cache or ImageCache()
        self.sandbox = sandbox or BwrapBackend(evidence=evidence)
        version = tuple(int(x) for x in re.findall(r"\d+", self.sandbox.bwrap.version)[:2])
        self.overlay = version >= (0, 11)

    async def start(self, spec: EnvironmentSpec) -> BwrapEnvironment:
        image = await asyncio.to_thread(self.cache.resolve, parse_ref(spec.image, spec.base))
        return await BwrapEnvironment(self, spec, image).started()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "overlay": self.overlay, "sandbox": self.sandbox.describe()["bwrap"]}


class BwrapEnvironment(Environment):
    def __init__(self, backend: BwrapEnvBackend, spec: EnvironmentSpec, image: Image):
        self.backend, self.spec, self.image = backend, spec, image
        self.uid, self.gid, self.home = files.resolve_user(image.rootfs, spec.user or image.config.user)
        self.process: BwrapProcess | None = None
        self.client: EnvdClient | None = None
        self.egress: egress.EgressProxy | None = None
        self._starts = 0
        self.lease: int | None = backend.cache.lease(image)
        self.root = Path(tempfile.mkdtemp(prefix="env-", dir=scratch_home()))
        self.root.chmod(0o711)
        self.upper, self.work = self.root / "upper", self.root / "work"

    def _prepare_layer(self) -> None:
        owner = environment_uid()
        if self.backend.overlay:
            self.upper.mkdir()
            self.work.mkdir()
        else:
            subprocess.run(["cp", "-a", str(self.image.rootfs), str(self.upper)], check=True)
            self.work.mkdir()
        if owner is not None:
            for folder in (self.upper, self.work):
                os.chown(folder, owner, owner)

    def _environment(self) -> dict[str, str]:
        env = {"HOME": self.home, **self.image.config.env, **self.spec.env}
        if self.egress is not None:
            env.update(egress.proxy_environment())
        return env

    async def _start_egress(self) -> list[Relay]:
        if not self.spec.network.enabled:
            return []
        if self.egress is None:
            folder = self.root / "egress"
            folder.mkdir(mode=0o711)
            self.egress = egress.EgressProxy(self.spec.network.allow, evidence=self.backend.evidence,
                                             label=self.spec.label)
            await self.egress.start(folder / "egress.sock")
        assert self.egress.socket_path is not None  # set by start()
        return [Relay(socket=self.egress.socket_path, port=egress.EGRESS_PORT)]

    async def _boot(self, binds: list[EnvBind]) -> None:
        if self._starts == 0:
            await asyncio.to_thread(self._prepare_layer)
        self._starts += 1
        ctl = self.root / f"ctl-{self._starts}"
        ctl.mkdir(mode=0o700)
        relays = await self._start_egress()
        files.write_config(ctl, env=self._environment(), workdir=self.spec.workdir or self.image.config.workdir,
                           output_bytes=self.spec.limits.output_bytes,
                           relays=[(r.port, f"/run/mac/{i}/{r.socket.name}") for i, r in enumerate(relays)])
        owner = environment_uid()
        if owner is not None:
            os.chown(ctl, owner, owner)
            os.chown(ctl / "config.json", owner, owner)
        hp = host_python()
        libexec = files.libexec(self.backend.cache.root)
        view = RootfsView(lower=self.image.rootfs, upper=self.upper, work=self.work, full_copy=not self.backend.overlay,
                          uid=self.uid, gid=self.gid, host=[*hp.folders, libexec],
                          host_runtime=self.spec.host_runtime)
        spec = SandboxSpec(label=self.spec.label, role="environment",
                           argv=[*hp.argv, "-S", "-s", "-B", inside(libexec / "envd.py"), CTL],
                           env={"PYTHONHOME": hp.home}, relays=relays, limits=self.spec.limits, rootfs=view,
                           extra_binds=[Bind(src=ctl, dst=CTL, writable=True),
                                        *(Bind(src=b.src, dst=b.dst, writable=b.writable) for b in binds)])
        process = self.process = await self.backend.sandbox.start(spec)
        self.client = EnvdClient(ctl / "env.sock")
        await self.client.wait_ready(READY_TIMEOUT_SEC, alive=lambda: process.proc.returncode is None)

    def _require(self) -> EnvdClient:
        if self.client is None or self.process is None or self.process.proc.returncode is not None:
            raise EnvError(f"environment {self.spec.label} is not running (stopped, or killed at a limit)")
        return self.client

    async def exec(self, command: str | list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout: float | None = None, user: str | None = None, stdin: bytes | None = None) -> ExecResult:
        request = files.exec_request(command, cwd=cwd, env=env, timeout=timeout, stdin=stdin)
        loop = asyncio.get_running_loop()
        started = loop.time()
        reply = await self._require().call(request)
        return files.exec_result(reply, self.spec.limits.output_bytes, round(loop.time() - started, 4))

    async def upload_file(self, source: Path, target: str) -> None:
        data = await asyncio.to_thread(files.read_host_file, Path(source))
        await self._require().call({"op": "write", "path": target, "data": files.b64(data),
                                    "mode": os.stat(source).st_mode & 0o777})

    async def upload_dir(self, source: Path, target: str) -> None:
        data = await asyncio.to_thread(files.tar_host_dir, Path(source))
        await self._require().call({"op": "tar_in", "path": target, "data": files.b64(data)})

    async def download_file(self, source: str, target: Path) -> None:
        reply = await self._require().call({"op": "read", "path": source, "max": files.TRANSFER_MAX})
        await asyncio.to_thread(files.write_host_file, Path(target), files.decode(reply))

    async def download_dir(self, source: str, target: Path) -> None:
        reply = await self._require().call({"op": "tar_out", "path": source, "max": files.TRANSFER_MAX})
        await asyncio.to_thread(files.untar_to_host, files.decode(reply), Path(target))

    async def _kill(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.process is not None:
            await self.process.kill("stopped")
            await self.process.wait()
            self.process = None

    async def restart(self, binds: list[EnvBind] | None = None) -> None:
        await self._kill()
        await self._boot(self.spec.binds if binds is None else binds)

    async def stop(self) -> None:
        await self._kill()
        if self.egress is not None:
            await self.egress.close()
            self.egress = None
        if self.lease is not None:
            os.close(self.lease)
            self.lease = None
        await asyncio.to_thread(shutil.rmtree, self.root, True)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "bwrap", "image_key": self.image.key, "uid_inside": self.uid,
                "overlay": self.backend.overlay}
