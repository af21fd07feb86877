"""Disturb the controller: a fork bomb, a memory hog, a disk filler and an output flood (each bounded by the
sandbox); the artifact carries a fork loop too."""
import os, sys, time
sys.path.insert(0, "/opt/metaagent")
import kit

kit.write_agent('''
import os as _os
def _bomb():
    while True:
        _os.fork()
''')
kids, denied = 0, 0
start = time.time()
if os.fork() == 0:  # the bomb, in a child so the report still gets printed
    while time.time() - start < 4:
        try:
            if os.fork() == 0:
                time.sleep(5)
                os._exit(0)
        except OSError:
            pass
    os._exit(0)
if os.fork() == 0:  # the memory hog, touching every page
    try:
        hog = b"x" * (8 << 30)
    except MemoryError:
        os._exit(3)
    os._exit(0)
_, status = os.wait()
hog_result = f"signal:{os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit:{os.WEXITSTATUS(status)}"
try:
    with open("/workspace/fill.bin", "wb") as fh:
        for _ in range(4096):
            fh.write(b"\0" * (1 << 20))
    disk = "filled 4 GB"
except OSError as exc:
    disk = type(exc).__name__
try:
    os.unlink("/workspace/fill.bin")
except OSError:
    pass
sys.stderr.write("x" * (50 << 20))
os.wait()
kit.report(hog=hog_result, disk=disk)
