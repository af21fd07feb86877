"""Podman and Docker environment backends, for machines where their CLI works (`--env-backend podman|docker`).

An environment is a container (`run -d ... sleep infinity`) with no network (`--network none`), the task's
memory, CPU and process limits; exec is `exec -i`, transfers are `cp` in and `tar` out (unpacked on the host by
the same untrusted-archive rules as image layers). `restart` commits the container to a temporary image and starts
a new container from it with the new binds, so every process dies and the files stay. The engine provides the
isolation (declared in `isolation`): network allowlists are not supported (a task that needs one is refused:
use bwrap), and a command killed at its timeout is the exec client; what it started inside dies at restart/stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from mac.environments import files
from mac.environments.base import EnvBind, Environment, EnvironmentBackend, EnvironmentSpec, ExecResult
from mac.environments.images import parse_ref
from mac.errors import EnvError
from mac.sandbox.capture import Capture

CLI_TIMEOUT_SEC = 600.0


class ContainerEnvBackend(EnvironmentBackend):
    cli = "podman"
    isolated = True
    isolation = {"namespaces": "the container engine's", "network": "none (allowlists unsupported)",
                 "network_allowlist": False, "root_filesystem": "container layer per attempt"}

    def __init__(self, evidence=None, **_ignored: Any):
        self.evidence = evidence
        self.name = self.cli

    @classmethod
    def available(cls) -> tuple[bool, str]:
        path = shutil.which(cls.cli)
        if path is None:
            return False, f"{cls.cli} is not installed"
        try:
            done = subprocess.run([path, "info"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            return False, f"`{cls.cli} info` failed: {exc}"
        if done.returncode != 0:
            return False, f"`{cls.cli} info` failed: {done.stderr.strip()[-300:]}"
        return True, ""

    async def start(self, spec: EnvironmentSpec) -> ContainerEnvironment:
        if spec.network.enabled and not self.isolation["network_allowlist"]:
            raise EnvError(f"the {self.cli} backend cannot enforce a network allowlist: use --env-backend bwrap")
        return await ContainerEnvironment(self, spec, await self._image(spec)).started()

    async def _image(self, spec: EnvironmentSpec) -> str:
        ref = parse_ref(spec.image, spec.base)
        if ref.kind == "docker":
            return ref.value
        if ref.kind == "oci":
            return await self._load_layout(Path(ref.value), ref.tag)
        if ref.kind == "rootfs":
            raise EnvError(f"the {self.cli} backend takes images, not rootfs folders: `mac env import` it into an "
                           "OCI layout, or use --env-backend bwrap")
        tag = f"localhost/mac-env-{uuid.uuid4().hex[:10]}"
        folder = Path(ref.value) if Path(ref.value).is_dir() else Path(ref.value).parent
        await cli(self.cli, "build", "-t", tag, str(folder))
        return tag

    async def _load_layout(self, layout: Path, tag: str | None) -> str:
        """Load an OCI layout into the engine; returns what to run. Engines derive an image name from the path, so
        the layout is reached through a link with a name they accept."""
        digest = hashlib.sha256(f"{layout.resolve()}:{tag}".encode()).hexdigest()[:16]
        links = Path(tempfile.gettempdir()) / "mac-oci-links"
        links.mkdir(exist_ok=True)
        link = links / f"mac-env-{digest}"
        try:
            link.symlink_to(layout.resolve())
        except FileExistsError:
            pass  # made by an earlier load of the same layout
        if self.cli == "podman":
            source = f"oci:{link}" + (f":{tag}" if tag else "")
            return (await cli(self.cli, "pull", "-q", source)).strip().splitlines()[-1]
        archive = Path(tempfile.mkdtemp()) / "image.tar"
        try:
            await asyncio.to_thread(shutil.make_archive, str(archive.with_suffix("")), "tar", str(layout))
            output = await cli(self.cli, "load", "-i", str(archive))
        finally:
            shutil.rmtree(archive.parent, ignore_errors=True)
        loaded = [line.split(":", 1)[1].strip() for line in output.splitlines() if line.startswith("Loaded image")]
        if not loaded:
            raise EnvError(f"{self.cli} load named no image: {output.strip()[-300:]}")
        return loaded[-1]


class PodmanEnvBackend(ContainerEnvBackend):
    cli = "podman"


class DockerEnvBackend(ContainerEnvBackend):
    cli = "docker"


class ContainerEnvironment(Environment):
    def __init__(self, backend: ContainerEnvBackend, spec: EnvironmentSpec, image: str):
        self.backend, self.spec, self.image = backend, spec, image
        self.name: str | None = None
        self.snapshots: list[str] = []

    async def _boot(self, binds: list[EnvBind]) -> None:
        limits = self.spec.limits
        self.name = f"mac-env-{uuid.uuid4().hex[:12]}"
        argv = ["run", "-d", "--name", self.name, "--network", "none", "--memory", f"{limits.memory_mb}m",
                "--pids-limit", str(limits.pids), "--cpus", str(limits.cpus), "--entrypoint", ""]
        if self.spec.workdir:
            argv += ["--workdir", self.spec.workdir]
        if self.spec.user:
            argv += ["--user", self.spec.user]
        for key, value in self.spec.env.items():
            argv += ["-e", f"{key}={value}"]
        for bind in binds:
            argv += ["-v", f"{bind.src}:{bind.dst}:{'rw' if bind.writable else 'ro'}"]
        if self.spec.host_runtime:
            argv += [arg for name in ("usr", "bin", "sbin", "lib", "lib64") if Path(f"/{name}").exists()
                     for arg in ("-v", f"/{name}:/{name}:ro")]
        await cli(self.backend.cli, *argv, self.image, "sleep", "infinity")

    async def exec(self, command: str | list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout: float | None = None, user: str | None = None, stdin: bytes | None = None) -> ExecResult:
        argv = [self.backend.cli, "exec", "-i"]
        if cwd:
            argv += ["-w", cwd]
        if user:
            argv += ["-u", user]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        argv += [self._require(), *(["sh", "-c", command] if isinstance(command, str) else command)]
        loop = asyncio.get_running_loop()
        started = loop.time()
        proc = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE)
        limit = self.spec.limits.output_bytes
        out, err = Capture(proc.stdout, limit), Capture(proc.stderr, limit)
        if proc.stdin is not None:
            if stdin:
                proc.stdin.write(stdin)
            proc.stdin.close()
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            proc.kill()
            await proc.wait()
        await out.finish(2.0)
        await err.finish(2.0)
        return ExecResult(returncode=None if timed_out else proc.returncode, stdout=out.text(), stderr=err.text(),
                          stdout_truncated=bool(out.dropped), stderr_truncated=bool(err.dropped),
                          timed_out=timed_out, wall_sec=round(loop.time() - started, 4))

    def _require(self) -> str:
        if self.name is None:
            raise EnvError(f"environment {self.spec.label} is not running")
        return self.name

    async def upload_file(self, source: Path, target: str) -> None:
        await self.exec(["mkdir", "-p", str(Path(target).parent)])
        await cli(self.backend.cli, "cp", str(source), f"{self._require()}:{target}")

    async def upload_dir(self, source: Path, target: str) -> None:
        await self.exec(["mkdir", "-p", target])
        await cli(self.backend.cli, "cp", f"{source}/.", f"{self._require()}:{target}")

    async def download_file(self, source: str, target: Path) -> None:
        result = await self.exec(["base64", source])
        if result.returncode != 0 or result.stdout_truncated:
            raise EnvError(f"cannot read {source}: {result.stderr.strip()[:300] or 'larger than the output cap'}")
        await asyncio.to_thread(files.write_host_file, Path(target), files.decode({"data": "".join(result.stdout.split())}))

    async def download_dir(self, source: str, target: Path) -> None:
        proc = await asyncio.create_subprocess_exec(self.backend.cli, "exec", self._require(), "tar", "-C", source,
                                                    "-cf", "-", ".", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data, errors = await proc.communicate()
        if proc.returncode != 0 or len(data) > files.TRANSFER_MAX:
            raise EnvError(f"cannot read {source}: {errors.decode(errors='replace').strip()[:300] or 'too large'}")
        await asyncio.to_thread(files.untar_to_host, data, Path(target))

    async def restart(self, binds: list[EnvBind] | None = None) -> None:
        name = self._require()
        snapshot = f"localhost/mac-env-snap-{uuid.uuid4().hex[:10]}"
        await cli(self.backend.cli, "kill", name)
        await cli(self.backend.cli, "commit", name, snapshot)
        await cli(self.backend.cli, "rm", "-f", name)
        self.snapshots.append(snapshot)
        self.image, self.name = snapshot, None
        await self._boot(self.spec.binds if binds is None else binds)

    async def stop(self) -> None:
        if self.name is not None:
            await cli(self.backend.cli, "rm", "-f", self.name, check=False)
            self.name = None
        for snapshot in self.snapshots:
            await cli(self.backend.cli, "rmi", "-f", snapshot, check=False)
        self.snapshots = []


async def cli(tool: str, *args: str, check: bool = True) -> str:
    proc = await asyncio.create_subprocess_exec(tool, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_SEC)
    except TimeoutError:
        proc.kill()
        raise EnvError(f"`{tool} {args[0]}` did not finish in {CLI_TIMEOUT_SEC:g}s") from None
    if check and proc.returncode != 0:
        raise EnvError(f"`{tool} {' '.join(args[:2])}` failed: {err.decode(errors='replace').strip()[-600:]}")
    return out.decode(errors="replace")
