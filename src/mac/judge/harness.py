"""What one test's process runs (forked by driver.py, stdlib only): set the process up, run the candidate, report.

The process is the candidate's own: anything here can be undone or faked by the code it runs, and that is fine,
because the only thing it can change is its own result, which the controller judges from plain bytes against
expected outputs this process never sees. The report (a JSON object on fd 3, rewritten from its start so junk a
program wrote there first is dropped) is one of:

    {"done": true}            stdio: the program finished (normally or by SystemExit, as LiveCodeBench counts it)
    {"value": V}              call-based: the JSON form of the return value (a top-level tuple becomes a list)
    {"unequal": "tuple"}      call-based: a value LiveCodeBench's `==` can never find equal to a JSON value (a
                              tuple below the top, a dict key that is not a string)
    {"not_json": "TypeName"}  call-based: a value of a type that has no JSON form
    {"missing": "fn_name"}    call-based: no such method on Solution() (or function in the module)
    {"error": "TypeName"}     an exception escaped the program (its type's name only: no message)
    {"input_error": true}     call-based: the test input is not one JSON value per line
    {"too_big": true}         the report itself did not fit the file-size limit
"""

import builtins
import ctypes
import fcntl
import io
import json
import numbers
import operator
import os
import random
import resource
import signal
import sys
import threading
import types
from dataclasses import dataclass

PR_SET_DUMPABLE = 4
MAX_DEPTH = 100
"""Deepest nesting of a call-based result (LiveCodeBench's values are a few levels deep)."""
INT_DIGITS = 50000
"""sys.set_int_max_str_digits in LiveCodeBench's checker."""


@dataclass
class Program:
    source: str
    code: types.CodeType
    preamble: types.CodeType


class Unequal(Exception):
    pass


class NotJson(Exception):
    pass


def run(config, program, stdin_fd, stdout_fd, report_fd):
    """Never returns: ends the process with os._exit."""
    setup_process(config, stdin_fd, stdout_fd, report_fd)
    if config["mode"] == "call":
        run_call(program, config["fn_name"])
    else:
        run_stdio(program)


def setup_process(config, stdin_fd, stdout_fd, report_fd):
    fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (stdin_fd, stdout_fd, report_fd)]  # clear of 0-3
    null = os.open(os.devnull, os.O_WRONLY)
    for target, fd in zip((0, 1, 3), fds):
        os.dup2(fd, target)
    os.dup2(null, 2)
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))  # the driver's pipes, memfds and the rest
    os.setsid()
    # the driver is not dumpable (so its /proc files are closed to this process); this process may be, like any
    # program: else its own /proc/self files belong to root and it could not even raise its oom_score_adj
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # the kernel's OOM killer picks this process (and its children), never the driver
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_bytes"], config["file_bytes"]))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    random.seed()  # not the driver's state, shared by every test
    sys.set_int_max_str_digits(INT_DIGITS)
    sys.argv = ["solution.py"]
    fresh_streams()


def fresh_streams():
    """New sys.stdin/sys.stdout objects on fds 0 and 1, set up as the interpreter sets up a fresh process's
    (no newline translation: "\r\n" reaches the program as it is, as in a contest judge and in LiveCodeBench)."""
    old_in, old_out = sys.stdin, sys.stdout
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                 encoding=old_in.encoding, errors=old_in.errors, newline="\n")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                                   encoding=old_out.encoding, errors=old_out.errors, newline="\n")


def report(obj):
    sys.set_int_max_str_digits(0)  # a big integer result is the program's answer, not an attack on us
    data = json.dumps(obj).encode()
    try:
        os.lseek(3, 0, os.SEEK_SET)
        os.ftruncate(3, 0)
        while data:
            data = data[os.write(3, data):]
    except OSError:
        os.lseek(3, 0, os.SEEK_SET)
        os.ftruncate(3, 0)
        os.write(3, b'{"too_big": true}')


def finish(obj, code, join_threads=False):
    """Flush what the program printed (after its threads, for a stdio program, as a real run would), report, exit."""
    main = threading.main_thread()
    for thread in threading.enumerate() if join_threads else ():
        if thread is not main and not thread.daemon:
            try:
                thread.join()
            except BaseException:
                pass
    for stream in {id(s): s for s in (sys.stdout, sys.__stdout__)}.values():
        try:
            stream.flush()
        except BaseException:
            pass  # e.g. the file-size limit: the driver sees the size
    report(obj)
    os._exit(code)


def fresh_module(name):
    module = types.ModuleType(name)
    module.__dict__["__builtins__"] = builtins
    return module


def run_stdio(program):
    module = fresh_module("__main__")
    sys.modules["__main__"] = module
    try:
        exec(program.preamble, module.__dict__)
        exec(program.code, module.__dict__)
    except SystemExit:
        pass
    except BaseException as exc:
        finish({"error": type(exc).__name__}, 1)
    finish({"done": True}, 0, join_threads=True)


def read_arguments():
    text = sys.stdin.read()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # a call-based program has no stdin and no stdout of note (LiveCodeBench ignores both)
    os.dup2(null, 1)
    try:
        return [json.loads(line) for line in text.split("\n") if line != ""]
    except ValueError:
        finish({"input_error": True}, 1)


def run_call(program, fn_name):
    args = read_arguments()
    module = fresh_module("tmp_sol")
    try:
        exec(program.preamble, module.__dict__)
        exec(program.code, module.__dict__)
        if "class Solution" in program.source and hasattr(module, "Solution"):
            target = module.Solution()
        else:
            target = module
        method = getattr(target, fn_name, None)
        if method is None:
            finish({"missing": fn_name}, 1)
        result = method(*args)
        if isinstance(result, tuple):
            result = list(result)
        finish({"value": to_json(result, 0)}, 0)
    except Unequal as why:
        finish({"unequal": str(why)}, 0)
    except NotJson as why:
        finish({"not_json": str(why)}, 0)
    except BaseException as exc:
        finish({"error": type(exc).__name__}, 1)


def to_json(value, depth):
    """The JSON form of a value, read through the base types' own methods (a subclass cannot override them)."""
    if depth > MAX_DEPTH:
        raise NotJson(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):
        raise Unequal("tuple")
    if isinstance(value, list):
        return [to_json(item, depth + 1) for item in list.__iter__(value)]
    if isinstance(value, dict):
        items = list(dict.items(value))
        if not all(isinstance(key, str) for key, _ in items):
            raise Unequal("key")
        return {str.__str__(key): to_json(item, depth + 1) for key, item in items}
    if hasattr(kind, "__index__"):
        return operator.index(value)  # e.g. numpy integers, which LiveCodeBench's == finds equal to ints
    if isinstance(value, numbers.Real):
        return float(value)
    raise NotJson(kind.__name__[:60])
