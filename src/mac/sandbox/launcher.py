"""A warm launcher (run as root by the controller, stdlib only): join a fresh cgroup, wait for one order on stdin,
then lower rlimits, drop to the slot uid and exec bwrap.

    python -I -S launcher.py CGROUP_PROCS_FILE...      then one JSON line on stdin:
    {"argv": [...], "rlimits": [[resource, value], ...], "uid": 10042, "gid": 10042, "stdin": false}

"stdin": true keeps the order pipe as the sandbox's stdin (the controller writes more only once bwrap reported
the sandbox started, so the buffered readline below cannot have read past the order); false gives /dev/null.

Joining a cgroup v1 waits for an RCU grace period (~10-15 ms); done here, ahead of time, it is off the sandbox's
start path. End of input without an order means the controller is gone or dropped the launcher: exit quietly.
"""

import json
import os
import resource
import sys


def main() -> None:
    for procs in sys.argv[1:]:
        with open(procs, "w") as fh:
            fh.write("0")
    line = sys.stdin.buffer.readline()
    if not line:
        os._exit(0)
    order = json.loads(line)
    for res, value in order["rlimits"]:
        resource.setrlimit(res, (value, value))
    if order["uid"] is not None:
        os.setgroups([])
        os.setresgid(order["gid"], order["gid"], order["gid"])
        os.setresuid(order["uid"], order["uid"], order["uid"])
    if not order.get("stdin"):
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    os.execve(order["argv"][0], order["argv"], {})


if __name__ == "__main__":
    main()
