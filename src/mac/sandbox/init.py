"""In-sandbox init: relay 127.0.0.1:PORT to host unix sockets, run the command as a child, exit with its code.

    python -I -S init.py --relay 8000=/run/mac/0/gw.sock [--relay ...] -- CMD ARGS...

Stdlib only; copied into the sandbox runtime and run with the sandbox's privileges (so untrusted like the
command: the controller trusts nothing it says). The listeners are bound before the command starts, so the
command can connect at once. One thread and a selector relay every connection; every TCP socket gets
TCP_NODELAY (without it each request waits ~40 ms for a delayed ACK). A command killed by signal N gives exit
status 128+N.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import sys

CHUNK = 256 * 1024


class Pipe:
    """One direction of a relayed connection, with a bounded buffer (reading pauses while it is full)."""

    def __init__(self, src: socket.socket, dst: socket.socket):
        self.src, self.dst = src, dst
        self.buffer = b""
        self.eof = False
        self.done = False


class Relay:
    def __init__(self, routes: list[tuple[int, str]]):
        self.sel = selectors.DefaultSelector()
        self.conns: dict[socket.socket, list[Pipe]] = {}
        for port, path in routes:
            lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind(("127.0.0.1", port))
            lst.listen(256)
            lst.setblocking(False)
            self.sel.register(lst, selectors.EVENT_READ, ("listen", path))

    def accept(self, lst: socket.socket, path: str) -> None:
        try:
            client, _ = lst.accept()
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError as exc:
            sys.stderr.write(f"mac-init: relay to {path} failed: {exc}\n")
            client.close()
            upstream.close()
            return
        client.setblocking(False)
        upstream.setblocking(False)
        pipes = [Pipe(client, upstream), Pipe(upstream, client)]
        for sock in (client, upstream):
            self.conns[sock] = pipes
        self.update(pipes)

    def update(self, pipes: list[Pipe]) -> None:
        """(Re)register interest: read a source while its buffer is empty, write a destination while it is not."""
        for sock in (pipes[0].src, pipes[1].src):
            events = 0
            for pipe in pipes:
                if pipe.src is sock and not pipe.buffer and not pipe.eof:
                    events |= selectors.EVENT_READ
                if pipe.dst is sock and pipe.buffer:
                    events |= selectors.EVENT_WRITE
            key = self.sel.get_map().get(sock)
            if events and key is None:
                self.sel.register(sock, events, ("conn", None))
            elif events and key.events != events:
                self.sel.modify(sock, events, ("conn", None))
            elif not events and key is not None:
                self.sel.unregister(sock)

    def service(self, sock: socket.socket, mask: int) -> None:
        pipes = self.conns.get(sock)
        if pipes is None:
            return
        try:
            for pipe in pipes:
                if mask & selectors.EVENT_READ and pipe.src is sock and not pipe.buffer and not pipe.eof:
                    try:
                        data = sock.recv(CHUNK)
                    except (BlockingIOError, InterruptedError):
                        continue
                    pipe.buffer, pipe.eof = data, not data
                    self.flush(pipe)  # most writes complete at once: saves a select round trip
                elif mask & selectors.EVENT_WRITE and pipe.dst is sock:
                    self.flush(pipe)
        except OSError:
            self.close(pipes)
            return
        if all(p.done for p in pipes):
            self.close(pipes)
        else:
            self.update(pipes)

    @staticmethod
    def flush(pipe: Pipe) -> None:
        try:
            while pipe.buffer:
                pipe.buffer = pipe.buffer[pipe.dst.send(pipe.buffer):]
        except (BlockingIOError, InterruptedError):
            return
        if pipe.eof and not pipe.done:
            pipe.done = True
            pipe.dst.shutdown(socket.SHUT_WR)

    def close(self, pipes: list[Pipe]) -> None:
        for sock in (pipes[0].src, pipes[1].src):
            self.conns.pop(sock, None)
            if sock in self.sel.get_map():
                self.sel.unregister(sock)
            sock.close()


def parse(argv: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    routes, i = [], 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] != "--relay" or i + 1 >= len(argv):
            raise SystemExit(f"mac-init: bad arguments {argv[i:]!r}")
        port, _, path = argv[i + 1].partition("=")
        routes.append((int(port), path))
        i += 2
    command = argv[i + 1:]
    if not command:
        raise SystemExit("mac-init: no command after --")
    return routes, command


def main(argv: list[str]) -> int:
    routes, command = parse(argv)
    relay = Relay(routes)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            sys.stderr.write(f"mac-init: cannot run {command[0]}: {exc}\n")
        os._exit(127)
    relay.sel.register(wake_r, selectors.EVENT_READ, ("wake", None))
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        for key, mask in relay.sel.select():
            kind, path = key.data
            if kind == "listen":
                relay.accept(key.fileobj, path)
            elif kind == "wake":
                os.read(wake_r, 4096)
            else:
                relay.service(key.fileobj, mask)


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main(sys.argv[1:]))
