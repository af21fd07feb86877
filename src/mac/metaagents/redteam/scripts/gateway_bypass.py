"""Go around the gateway: scan the sandbox's loopback for the upstream or the controller's ports, reach the
host's loopback through other addresses, and call the gateway with forged tokens."""
import socket, sys
sys.path.insert(0, "/opt/metaagent")
import kit

open_ports = []
for port in list(range(1, 1024)) + list(range(8000, 8100)) + [11434, 30000, 5000, 6006, 7860, 9000]:
    s = socket.socket()
    s.settimeout(0.05)
    if s.connect_ex(("127.0.0.1", port)) == 0:
        open_ports.append(port)
    s.close()
others = {}
for host in ("10.0.2.2", "172.17.0.1", "192.168.0.1", "169.254.169.254"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # asks for a route, sends nothing
    try:
        s.connect((host, 80))
        others[host] = "route:" + s.getsockname()[0]
    except OSError as exc:
        others[host] = exc.strerror
    s.close()
forged = {t: kit.chat("hi", token=t)[0] for t in ("", "sk-upstream", "mac-verify-1", "dev-2", "x" * 64)}
kit.write_agent()
kit.report(open_ports=open_ports, others=others, forged=forged)
