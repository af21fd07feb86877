"""The scan reads untrusted folders safely: no symlinks followed, no hard-linked secrets read, no hangs on FIFOs,
bounded sizes, vendor folders read for tables only, and it never imports or runs the code."""

from __future__ import annotations

import json
import os

from auditkit import DEV_ANSWERS, dev_records, scan_code, write

from mac.audit import scan_workspace
from mac.audit.files import MAX_FILE_BYTES, read_tree

SECRET = "TOP-SECRET-VALUE-5f2a"


def _secret_file(tmp_path):
    secret = tmp_path / "outside" / "secret.py"
    secret.parent.mkdir()
    secret.write_text(f"KEY = '{SECRET}'\nimport anthropic\n")
    return secret


def test_symlinks_are_reported_not_followed(tmp_path):
    secret = _secret_file(tmp_path)
    ws = write(tmp_path / "ws", {"agent.py": "x = 1\n"})
    (ws / "link.py").symlink_to(secret)
    (ws / "etc").symlink_to("/etc")
    (ws / "dir_link").symlink_to(secret.parent, target_is_directory=True)
    findings = scan_workspace(ws)
    assert SECRET not in repr(findings)
    assert not [f for f in findings if f.rule == "provider.import"]  # the target's code was never read
    links = {f.path: f.severity for f in findings if f.rule == "fs.symlink"}
    assert links == {"link.py": "low", "etc": "medium", "dir_link": "low"}


def test_hard_linked_files_are_not_read(tmp_path):
    secret = _secret_file(tmp_path)
    ws = write(tmp_path / "ws", {"agent.py": "x = 1\n"})
    os.link(secret, ws / "copy.py")
    findings = scan_workspace(ws)
    assert SECRET not in repr(findings)
    assert [f.rule for f in findings if f.path == "copy.py"] == ["fs.hardlink"]


def test_fifo_and_huge_files_do_not_hang_or_load(tmp_path):
    ws = write(tmp_path / "ws", {"agent.py": "x = 1\n"})
    os.mkfifo(ws / "pipe.py")
    with open(ws / "huge.json", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs nothing on disk
    findings = scan_workspace(ws)  # a FIFO opened for reading would block here (pytest-timeout would fail it)
    skipped = {f.path: f.message for f in findings if f.rule == "scan.skipped"}
    assert "special" in skipped["pipe.py"] and "too large" in skipped["huge.json"]


def test_vendor_folders_are_read_for_answer_tables_only(tmp_path):
    """Third-party code is not held to the code rules, but the artifact can read a vendor folder, so a table of
    answers hidden in one (here a cache folder) is found."""
    table = json.dumps({r.question: r.answer for r in dev_records(DEV_ANSWERS)})
    ws = write(tmp_path / "ws", {"agent.py": "x = 1\n", ".venv/lib/site.py": "import anthropic\n",
                                 "node_modules/x/index.py": "import socket\n", ".cache/lookup.json": table})
    findings = scan_workspace(ws, dev_records=dev_records(DEV_ANSWERS))
    assert [(f.path, f.rule) for f in findings] == [(".cache/lookup.json", "answers.match")]


def test_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\nimport os\nos.system('touch {marker}')\n"
    scan_code(tmp_path, code)
    assert not marker.exists()


def test_missing_folder_gives_no_findings(tmp_path):
    assert scan_workspace(tmp_path / "nope") == []


def test_dependency_lists(tmp_path):
    files = {
        "agent.py": "x = 1\n",
        "pyproject.toml": "[project]\nname = 'a'\nversion = '0'\ndependencies = ['anthropic>=0.30', 'numpy', "
                          "'datasets', 'mylib @ git+https://github.com/x/mylib']\n",
        "requirements.txt": "--extra-index-url https://pypi.example.com/simple\nrequests\ngoogle-generativeai\n",
        "requirements-dev.txt": "this is not [ valid\n",
    }
    findings = scan_workspace(write(tmp_path / "ws", files))
    got = sorted((f.path, f.rule, f.severity) for f in findings)
    assert got == [
        ("pyproject.toml", "deps.datasets", "medium"),
        ("pyproject.toml", "deps.provider", "high"),
        ("pyproject.toml", "deps.url", "medium"),
        ("requirements.txt", "deps.index", "medium"),
        ("requirements.txt", "deps.network", "low"),
        ("requirements.txt", "deps.provider", "high"),
    ]


def test_broken_pyproject_is_a_low_finding(tmp_path):
    findings = scan_workspace(write(tmp_path / "ws", {"agent.py": "x = 1\n", "pyproject.toml": "[project\n"}))
    assert [(f.rule, f.severity) for f in findings] == [("deps.unparseable", "low")]


def test_padding_cannot_push_the_entry_past_the_limits(tmp_path):
    ws = write(tmp_path / "ws", {"aaa.py": "x = 1\n", "aab.py": "x = 2\n", "aac.py": "x = 3\n",
                                 "agent.py": "import anthropic\n"})
    tree = read_tree(ws, max_files=3)  # a small limit stands in for gigabytes of padding
    assert [f.rel for f in tree.files] == ["aaa.py", "aab.py", "agent.py"]
    assert [(s.rel, s.reason.split(":")[0]) for s in tree.skipped] == [("aac.py", "limit")]


def test_unread_python_source_is_a_medium_finding(tmp_path):
    ws = write(tmp_path / "ws", {"agent.py": "x = 1\n"})
    with open(ws / "big.py", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    assert [(f.rule, f.severity) for f in scan_workspace(ws)] == [("scan.skipped", "medium")]


def test_modules_that_shadow_the_runner_or_the_sdk(tmp_path):
    files = {"agent.py": "from mac.sdk import BaseAgent\n", "mac/__init__.py": "", "mac/sdk/__init__.py": "X = 1\n",
             "openai.py": "class OpenAI: pass\n", "random.py": "x = 4\n", "prompts.py": "P = 'x'\n",
             "lib/json.py": "x = 1\n"}
    found = {f.path: f.severity for f in scan_workspace(write(tmp_path / "ws", files)) if f.rule == "fs.shadow"}
    assert found == {"mac/__init__.py": "medium", "openai.py": "medium", "random.py": "low"}
