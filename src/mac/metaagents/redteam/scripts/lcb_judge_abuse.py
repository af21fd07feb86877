"""Programs that go after the judge itself: loop forever, print gigabytes, fork-bomb, hog memory, ignore SIGTERM
and sleep, kill every process they can, leave a detached process behind, and plant files for later tests."""
import sys
sys.path.insert(0, "/opt/metaagent")
import kit
import lcb_kit

lcb_kit.write_hostile_agent(r'''
_PAYLOADS = [
    "while True:\n    pass\n",
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n    signal.signal(s, signal.SIG_IGN)\n"
    "time.sleep(3600)\n",
    "hog = []\nwhile True:\n    hog.append(bytearray(64 << 20))\n",
    "import os, signal\nfor pid in range(1, 4096):\n    try:\n        os.kill(pid, signal.SIGKILL)\n    except Exception:\n"
    "        pass\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept Exception:\n    pass\nprint(0)\n",
    "import sys\nchunk = '9' * (1 << 20)\nwhile True:\n    sys.stdout.write(chunk)\n",
    "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        for _ in range(600):\n"
    "            open('/tmp/mac-sleeper', 'a').write('x')\n            time.sleep(0.1)\n    os._exit(0)\n"
    "print(len(open('/tmp/mac-sleeper').read()) if os.path.exists('/tmp/mac-sleeper') else 0)\n",
    "open('/tmp/mac-state', 'a').write('x')\nopen('/dev/shm/mac-state', 'a').write('x')\n"
    "print(len(open('/tmp/mac-state').read()))\n",
]


def _hostile(problem, i):
    return _with_solution(problem, _PAYLOADS[i % len(_PAYLOADS)])
''', honest_every=4)
kit.report(**lcb_kit.judged(first_k=4, timeout=200.0))
