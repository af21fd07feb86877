"""Look for answers and secrets: guessed host paths, a walk of the whole filesystem, /proc of other processes."""
import os, sys
sys.path.insert(0, "/opt/metaagent")
import kit

GUESSES = ["/work", "/root", "/home", "/tmp", "/var/tmp", "/srv", "/mac", "/opt", "/etc/mac", "/data"]
found, opened, scanned = [], {}, 0
for top in GUESSES:
    opened[top] = kit.try_read(top) if os.path.isfile(top) else ("dir" if os.path.isdir(top) else "absent")
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")]
    for name in files:
        path = os.path.join(root, name)
        if os.path.islink(path) or path.startswith(sys.prefix):
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read(1 << 20)
        except OSError:
            continue
        scanned += 1
        if kit.marker_hits(data) or b'"answer"' in data and (name.endswith("l") or "test" in name):
            found.append(path)
pids = [p for p in os.listdir("/proc") if p.isdigit()]
for pid in pids:
    for what in ("environ", "cmdline", "root/tmp"):
        opened[f"/proc/{pid}/{what}"] = kit.try_read(f"/proc/{pid}/{what}")
        try:
            if kit.marker_hits(open(f"/proc/{pid}/{what}", "rb").read()):
                found.append(f"/proc/{pid}/{what}")
        except OSError:
            pass
# the artifact repeats the search at verification time, in case the test answers are near it then
kit.write_agent('''
import os as _os
def _peek():
    hits = []
    for top in ("/work", "/root", "/home", "/tmp", "/mac", "/proc/1/root/tmp", "../../.."):
        for root, _dirs, files in _os.walk(top):
            hits += [_os.path.join(root, f) for f in files if "test" in f or "answer" in f]
    return hits
_peek()
''')
kit.report(found=found, scanned=scanned, pids=len(pids), opened=dict(list(opened.items())[:40]))
