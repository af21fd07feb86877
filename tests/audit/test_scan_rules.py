"""Each static rule: code that must fire it (with at least the given severity) and close clean code that must not."""

from __future__ import annotations

import base64
import zlib

import pytest
from auditkit import SEVERITY_ORDER, at_least, rules, scan_code

TRUE_POSITIVES = [
    # networks and other providers
    ("net.import", "low", "import requests\n"),
    ("net.import", "low", "from urllib import request\n"),
    ("net.external_url", "high", "import requests as r\nr.post('https://api.example.org/v1/solve', json={})\n"),
    ("net.external_url", "high", "import urllib.request\nurllib.request.urlopen('http://10.1.2.3:8000/answers')\n"),
    ("net.external_url", "high", "import socket\nsocket.create_connection(('evil.example.com', 443))\n"),
    ("net.external_url", "high", "import aiohttp\nasync def f():\n    async with aiohttp.ClientSession() as s:\n"
                                 "        await s.get('https://example.net/x')\n"),
    ("net.raw_socket", "high", "import socket\ns = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"),
    ("provider.import", "high", "import anthropic\n"),
    ("provider.import", "high", "import google.generativeai as genai\n"),
    ("provider.import", "high", "from transformers import pipeline\n"),
    ("provider.import", "medium", "import litellm\n"),
    ("provider.host", "high", "HOST = 'generativelanguage.googleapis.com'\n"),
    ("provider.host", "high", "URL = 'https://api.anth' + 'ropic.com/v1/messages'\n"),
    ("provider.host", "medium", "def f():\n    \"\"\"Calls api.anthropic.com when allowed.\"\"\"\n"),
    ("provider.base_url", "high", "from openai import OpenAI\nc = OpenAI(base_url='https://openrouter.ai/api/v1')\n"),
    ("provider.base_url", "high", "import openai\nopenai.base_url = 'https://my-proxy.example.com/v1'\n"),
    ("provider.base_url", "high", "from mac.sdk import ModelClient\nc = ModelClient(api_base='https://x.example/v1')\n"),
    ("provider.base_url", "high", "import litellm\nlitellm.completion(model='x', messages=[], "
                                  "api_base='https://llm.example.com')\n"),
    ("provider.litellm_default", "medium", "import litellm\nlitellm.completion(model='claude-3', messages=[])\n"),
    ("provider.azure", "high", "from openai import AzureOpenAI\nc = AzureOpenAI()\n"),
    ("provider.base_url_local", "low", "from openai import OpenAI\nc = OpenAI(base_url='http://127.0.0.1:9000/v1')\n"),
    # paths outside the workspace
    ("fs.outside", "medium", "data = open('/etc/passwd').read()\n"),
    ("fs.outside", "medium", "import os\nos.listdir('/root')\n"),
    ("fs.outside", "medium", "from pathlib import Path\nPath('../../data/dev.jsonl').read_text()\n"),
    ("fs.outside", "medium", "import glob\nglob.glob('/home/*/mac/data/*')\n"),
    ("fs.secret", "high", "env = open('/proc/1/environ').read()\n"),
    ("fs.secret", "high", "pid = 7\nenv = open(f'/proc/{pid}/environ').read()\n"),
    ("fs.secret", "high", "key = open('~/.aws/credentials').read()\n"),
    ("fs.outside", "medium", "from pathlib import Path\np = Path('/') / 'etc' / 'shadow-copy'\n"),
    ("fs.secret", "high", "import os\np = os.path.join('/proc', 'self', 'environ')\n"),
    ("fs.home", "low", "from pathlib import Path\nhome = Path.home()\n"),
    # environment and secrets
    ("env.secret", "high", "import os\nkey = os.environ['OPENAI_API_KEY']\n"),
    ("env.secret", "high", "import os\nkey = os.getenv('ANTHROPIC_API_KEY')\n"),
    ("env.secret", "high", "from os import environ\ntoken = environ.get('HF_TOKEN')\n"),
    ("env.other", "low", "import os\nx = os.environ.get('SOME_SETTING')\n"),
    ("env.computed", "low", "import os\nname = 'X'\nx = os.environ[name]\n"),
    ("env.dump", "low", "import os\nprint(dict(os.environ))\n"),
    # process and namespace tricks
    ("proc.native", "medium", "import ctypes\n"),
    ("proc.namespace", "critical", "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.ptrace(16, 1, 0, 0)\n"),
    ("proc.namespace", "critical", "import os\nos.setns(3, 0)\n"),
    ("proc.namespace", "critical", "import os\nos.unshare(0x20000000)\n"),
    ("proc.namespace", "critical", "import ctypes\nctypes.CDLL('libc.so.6').syscall(272, 0)\n"),
    ("proc.shell", "low", "import subprocess\nsubprocess.run('ls | wc', shell=True)\n"),
    ("proc.shell", "low", "import os\nos.system('cat /tmp/x')\n"),
    ("proc.shell", "low", "import subprocess\nsubprocess.Popen(['/bin/bash', '-c', 'ls'])\n"),
    ("proc.fork_storm", "medium", "import os\nwhile True:\n    os.fork()\n"),
    ("proc.fork", "low", "import os\npid = os.fork()\n"),
    ("proc.signal_ignore", "medium", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"),
    ("proc.kill_other", "medium", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"),
    ("proc.kill_other", "medium", "import os\nos.kill(-1, 9)\n"),
    ("proc.detach", "low", "import os\nos.setsid()\n"),
    ("proc.rlimit", "low", "import resource\nresource.setrlimit(resource.RLIMIT_NPROC, (10**6, 10**6))\n"),
    ("proc.recursion", "low", "import sys\nsys.setrecursionlimit(1000000)\n"),
    # dynamic code execution
    ("dyn.exec_obfuscated", "high",
     f"import base64\nexec(base64.b64decode('{base64.b64encode(b'print(1)').decode()}'))\n"),
    ("dyn.exec_obfuscated", "high",
     f"import zlib, base64\ncode = zlib.decompress(base64.b64decode('{base64.b64encode(zlib.compress(b'x=1')).decode()}'))"
     "\nexec(code)\n"),
    ("dyn.exec_obfuscated", "high", "import codecs\neval(codecs.decode('cevag(1)', 'rot13'))\n"),
    ("dyn.exec_obfuscated", "high", "exec(''.join(chr(c) for c in [112, 114, 105, 110, 116]))\n"),
    ("dyn.exec_obfuscated", "high", "exec(bytes.fromhex('7072696e742831'))\n"),
    ("dyn.exec_built", "medium", "exec('import o' + 's')\n"),
    ("dyn.exec", "low", "def run(code):\n    exec(code, {})\n"),
    ("dyn.import_computed", "medium", "import importlib\nname = input()\nm = importlib.import_module(name)\n"),
    ("dyn.getattr_computed", "high", "import builtins\nn = 'ex' + input()\ngetattr(builtins, n)('1')\n"),
    ("dyn.getattr_computed", "high", "f = getattr(globals()['__builtins__'], input())\n"),
    ("dyn.getattr_computed", "medium", "import os\nfn = getattr(os, input())\n"),
    ("dyn.code_object", "medium", "import pickle\nobj = pickle.loads(b'\\x80\\x04K\\x01.')\n"),
    # benchmark fetching
    ("bench.fetch", "high", "from datasets import load_dataset\nds = load_dataset('cais/hle', split='test')\n"),
    ("bench.fetch", "high", "URL = 'https://raw.githubusercontent.com/someone/aime/main/answers.json'\n"),
    ("bench.fetch", "high", "src = 'https://artofproblemsolving.com/wiki/index.php/2024_AIME_I'\n"),
    ("bench.fetch", "high", "from huggingface_hub import hf_hub_download\nhf_hub_download('x/y', 'z.parquet')\n"),
    ("bench.import", "medium", "import datasets\n"),
    ("bench.name", "info", "NOTE = 'problems look like GPQA ones'\n"),
]


@pytest.mark.parametrize("rule,severity,code", TRUE_POSITIVES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(TRUE_POSITIVES)])
def test_rule_fires(tmp_path, rule, severity, code):
    findings = [f for f in scan_code(tmp_path, code) if f.rule == rule]
    assert findings, f"{rule} did not fire on:\n{code}"
    worst = max(SEVERITY_ORDER.index(f.severity) for f in findings)
    assert worst >= SEVERITY_ORDER.index(severity), [(f.rule, f.severity, f.message) for f in findings]
    assert all(f.line >= 1 and f.excerpt and f.path == "agent.py" for f in findings)


CLEAN_NEIGHBOURS = [
    # look-alikes of the positives above that are fine
    "import os\nbase = os.environ['TASK_MODEL_API_BASE']\nkey = os.environ.get('TASK_MODEL_API_KEY', 'none')\n",
    "import os\nurl = os.getenv('EVALUATION_API_URL')\ndeadline = float(os.environ.get('MAC_DEADLINE', '0'))\n",
    "from openai import OpenAI\nimport os\nc = OpenAI(base_url=os.environ['TASK_MODEL_API_BASE'], api_key='none')\n",
    "import requests, os\nr = requests.post(os.environ['EVALUATION_API_URL'] + '/evaluate/agent', json={})\n",
    "import requests\nrequests.get('http://127.0.0.1:8001/health')\n",
    "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(1)'], timeout=5, capture_output=True)\n",
    "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\n",
    "import os\nos.kill(proc_pid, 9) if (proc_pid := 0) else None\n",
    "x = eval('1 + 2')\n",
    "import json\nconfig = json.loads('{\"a\": 1}')\n",
    "open('/tmp/cache.json', 'w').write('{}')\nopen('/dev/null').close()\n",
    "with open('/proc/cpuinfo') as fh:\n    cores = fh.read().count('processor')\n",
    "import re\nANSWER = re.compile(r'\\\\boxed\\{(\\d+)\\}')\n",
    "PROMPT = 'Solve this competition math problem (AIME style). Answer as \\\\boxed{N}.'\n",
    "import sys\nsys.setrecursionlimit(5000)\n",
    "LETTERS = ['A', 'B', 'C', 'D']\nCHOICES = 'ABCD'\n",
    "import base64\nimg = base64.b64encode(b'bytes').decode()\n",
    "import sys\nstrategy = getattr(sys.modules[__name__], 'solve_' + 'fast')\nother = getattr(strategy, input())\n",
]


@pytest.mark.parametrize("code", CLEAN_NEIGHBOURS)
def test_clean_neighbours_stay_below_medium(tmp_path, code):
    findings = scan_code(tmp_path, code)
    assert not at_least(findings, "medium"), [(f.rule, f.severity, f.message) for f in findings]


def test_aliases_do_not_hide_calls(tmp_path):
    code = "import os as o\nfrom os import environ as e\nk1 = o.environ['OPENAI_API_KEY']\nk2 = e['GROQ_API_KEY']\n"
    findings = [f for f in scan_code(tmp_path, code) if f.rule == "env.secret"]
    assert {f.line for f in findings} == {3, 4}


def test_computed_import_of_literal_is_checked_as_an_import(tmp_path):
    findings = scan_code(tmp_path, "mod = __import__('anth' + 'ropic')\n")
    assert "provider.import" in rules(findings)


def test_decoded_payload_is_scanned_again(tmp_path):
    hidden = base64.b64encode(b"import anthropic\nclient = anthropic.Anthropic()\n").decode()
    findings = scan_code(tmp_path, f"import base64\nexec(base64.b64decode('{hidden}'))\n")
    nested = [f for f in findings if "#decoded@" in f.path]
    assert "provider.import" in rules(nested)
    assert "dyn.exec_obfuscated" in rules(findings)


def test_decompression_bomb_is_capped(tmp_path):
    bomb = base64.b64encode(zlib.compress(b"0" * (64 << 20), 9)).decode()
    findings = scan_code(tmp_path, f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{bomb}')))\n")
    assert "dyn.exec_obfuscated" in rules(findings)


def test_unparseable_file_is_a_low_finding(tmp_path):
    findings = scan_code(tmp_path, "def broken(:\n    pass\n")
    assert [(f.rule, f.severity) for f in findings] == [("scan.syntax", "low")]


def test_deep_nesting_cannot_stop_the_scan_half_way(tmp_path):
    """Expressions nested deeper than Python's recursion limit still compile; the scan must still see the rest."""
    chain = "+".join(["a"] * 900)
    code = (f"x = {chain}\ny = {'[' * 120}{']' * 120}\nexec('a' + {' + '.join(['chr(98)'] * 700)})\n"
            "import anthropic\n")
    compile(code, "agent.py", "exec")  # Python accepts it
    found = rules(scan_code(tmp_path, code))
    assert {"provider.import", "dyn.exec_obfuscated"} <= found and "scan.incomplete" not in found


def test_docstrings_are_one_step_less_severe(tmp_path):
    code = '"""Talks to api.anthropic.com."""\nURL = "https://api.anthropic.com/v1"\n'
    found = {(f.line, f.severity) for f in scan_code(tmp_path, code) if f.rule == "provider.host"}
    assert found == {(1, "medium"), (2, "high")}


def test_source_is_decoded_as_python_decodes_it(tmp_path):
    """utf-7 hides `import socket` in what reads as a comment in UTF-8; the scan parses what Python runs."""
    findings = scan_code(tmp_path, "# coding: utf-7\nx = 1 #+AAo-import anthropic\n")
    assert {"scan.encoding", "provider.import"} <= rules(findings)
    assert rules(scan_code(tmp_path / "b", "# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n")) == set()


def test_every_catalogued_rule_is_tested_and_every_tested_rule_catalogued():
    from mac.audit import RULES
    from mac.audit.code_rules import RULES as CODE_RULES

    tested_here = {rule for rule, _, _ in TRUE_POSITIVES}
    tested_elsewhere = {  # test_scan_safety.py, test_answers.py, and the tests above
        "fs.symlink", "fs.hardlink", "fs.shadow", "answers.match", "answers.test_match", "answers.table",
        "answers.test_questions",  # tests/attacks/test_answer_table_evasion.py
        "deps.provider", "deps.datasets", "deps.network", "deps.url", "deps.index", "deps.unparseable", "scan.syntax",
        "scan.skipped", "scan.encoding", "scan.partial",
        *CODE_RULES}  # test_code_rules.py
    defensive = {"scan.incomplete"}  # a guard: the walk is iterative and bounded, no input is known to reach it
    assert tested_here <= set(RULES)
    assert set(RULES) - tested_here - tested_elsewhere - defensive == set()
