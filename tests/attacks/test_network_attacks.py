"""Network attacks from inside the sandbox: the host's loopback services (TCP, abstract unix sockets, unix
sockets by path), routes to the internet (asked with UDP connect + getsockname, no packet is sent), DNS, and
socket families that bypass network namespaces (vsock) or inspect the host (netlink, packet). Only the relays the
controller bridges in are reachable."""

from __future__ import annotations

import socket
import threading

from attackkit import assert_controller_works, report_of

SCRIPT = r"""
import errno, json, socket, sys
port, abstract, host_socket = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}

def attempt(name, fn):
    try:
        out[name] = ["ok", repr(fn())]
    except OSError as exc:
        out[name] = [type(exc).__name__, exc.errno]

attempt("tcp_host_loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=3))
attempt("tcp_localhost_name", lambda: socket.create_connection(("localhost", port), timeout=3))

def route(family, address):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect(address)  # UDP connect only asks the kernel for a route; nothing is sent
        return s.getsockname()

attempt("udp_route_v4", lambda: route(socket.AF_INET, ("192.0.2.1", 53)))
attempt("udp_route_v6", lambda: route(socket.AF_INET6, ("2001:db8::1", 53)))
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))

def unix(address):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(address)

attempt("abstract_unix", lambda: unix("\0" + abstract))
attempt("host_unix_path", lambda: unix(host_socket))
for name, family in (("vsock", 40), ("netlink", socket.AF_NETLINK), ("packet", socket.AF_PACKET),
                     ("alg", 38), ("bluetooth", 31)):
    attempt(name, lambda family=family: socket.socket(family, socket.SOCK_RAW if family != 40 else socket.SOCK_STREAM))
out["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
print(json.dumps(out))
"""


def test_no_network_but_the_relays(attack, bwrap_backend, box):
    accepted = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0mac-attack-{box.name}")
    abstract.listen()
    host_sock = socket.socket(socket.AF_UNIX)
    host_sock.bind(str(box / "host.sock"))
    host_sock.listen()
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        # proof the loopback server is up: the host itself can connect
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        result = attack(SCRIPT, args=[str(port), f"mac-attack-{box.name}", str(box / "host.sock")])
    finally:
        stop.set()
        thread.join(2)
        server.close()
        for conn, _ in accepted:
            conn.close()
        abstract.close()
        host_sock.close()
    out = report_of(result)
    assert out["tcp_host_loopback"] == ["ConnectionRefusedError", 111]
    assert out["tcp_localhost_name"][0] in ("ConnectionRefusedError", "OSError")
    assert out["udp_route_v4"] == ["OSError", 101] and out["udp_route_v6"][1] in (99, 101)  # no route at all
    assert out["dns"][0] == "gaierror"
    assert out["abstract_unix"] == ["ConnectionRefusedError", 111]  # abstract sockets are per network namespace
    assert out["host_unix_path"] == ["FileNotFoundError", 2]
    for family in ("vsock", "netlink", "packet", "alg", "bluetooth"):
        assert out[family] == ["OSError", 97], family  # EAFNOSUPPORT from the seccomp filter
    assert out["interfaces"] == ["lo"]
    assert len(accepted) == 1  # only the host's own proof connection ever reached the server
    assert_controller_works(bwrap_backend)
