"""Each judging rule of mac.judge, end to end on the real sandbox: LiveCodeBench's rules kept, and every place
where ours differs (numbered as in mac.judge's docstring)."""

from __future__ import annotations

import sys

import pytest

from judgehelp import statuses
from mac.errors import DataError

ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


# ---- stdin/stdout programs: LiveCodeBench's rules ----------------------------------------------------------

def test_a_correct_program_passes_every_test_and_a_wrong_one_stops_at_its_first_failure(judge):
    tests = [("1 2\n", "3\n"), ("5 5\n", "10"), ("0 0", "0")]
    assert judge(ADD, tests).passed
    verdict = judge("print(0)", tests)
    assert statuses(verdict) == ["wrong_answer", "not_run", "not_run"]
    assert verdict.explanation == "test 1 of 3: wrong answer (line 1 differs)"
    assert statuses(judge("print(0)", tests, stop=False)) == ["wrong_answer", "wrong_answer", "passed"]


def test_output_is_compared_line_by_line_after_stripping_with_exact_decimals(judge):
    assert judge("print('  1.50 ');print();print('x')", [("", "1.5\n\nx\n\n")]).passed
    assert not judge("print(0.1 + 0.2)", [("", "0.3")]).passed


def test_the_preamble_names_need_no_import(judge):
    code = """
    d = deque([3, 1, 2]); h = list(d); heapify(h)
    print(heappop(h), int(sqrt(16)), gcd(12, 18), Counter("aab")["a"], bisect_left([1, 2, 3], 2), sys.maxsize > 0)
    """
    assert judge(code, [("", "1 4 6 2 1 True")]).passed


def test_system_exit_ends_a_stdio_program_normally(judge):
    assert judge("print(7)\nexit()\nprint(8)", [("", "7")]).passed
    assert judge("import sys\nprint(7)\nsys.exit(3)", [("", "7")]).passed
    assert judge("import sys\nprint(7)\nsys.exit('bye')", [("", "7")]).passed


def test_an_exception_is_a_runtime_error_even_after_the_right_output(judge):
    verdict = judge("print(7)\n1 / 0", [("", "7")])
    assert statuses(verdict) == ["runtime_error"] and verdict.outcomes[0].detail == "ZeroDivisionError"
    mine = judge("class Boom(Exception): pass\nraise Boom('secret text')", [("", "7")])
    assert mine.outcomes[0].detail == "an exception of a type the program defined"


def test_int_to_str_conversions_allow_50000_digits(judge):
    assert judge("print(len(str(10 ** 40000)))", [("", "40001")]).passed
    verdict = judge("print(10 ** 60000)", [("", "1")])
    assert verdict.outcomes[0].detail == "ValueError"


def test_the_recursion_limit_is_macs(judge):
    assert judge("print(sys.getrecursionlimit())", [("", "500000")]).passed
    deep = "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(100000))"
    assert judge(deep, [("", "100000")]).passed


# ---- stdin/stdout programs: where ours differs (1, 4, 5) ---------------------------------------------------

def test_1_a_stdio_program_runs_as_a_real_main_module(judge):
    code = """
    count = 0
    def bump():
        global count
        count += 1
    if __name__ == "__main__":
        bump()
    print(count)
    """
    assert judge(code, [("", "1")]).passed  # LiveCodeBench: NameError (wrapped into a function)


def test_1_stdin_and_stdout_are_real_files(judge):
    code = """
    import os
    data = sys.stdin.buffer.read().split()
    sys.stdout.buffer.write(str(int(data[0]) * 2).encode() + b"\\n")
    sys.stdout.flush()
    os.write(1, b"end\\n")
    """
    assert judge(code, [("21\n", "42\nend")]).passed
    assert judge("print(open(0).read().split()[1])", [("a b\n", "b")]).passed
    assert judge("print(input())\nprint(input())", [("x\ny", "x\ny")]).passed
    assert judge("import sys\nfor line in sys.stdin: print(line.strip().upper())", [("a\nb\n", "A\nB")]).passed


def test_4_no_reliability_guard_and_future_imports_work(judge):
    code = """
    from __future__ import annotations
    import os, shutil, subprocess
    print(os.getcwd() != "", subprocess.run(["true"]).returncode)
    quit()
    """
    assert judge(code, [("", "True 0")]).passed


def test_5_threads_are_waited_for_and_os_exit_0_keeps_the_output(judge):
    code = """
    import threading, time
    def main():
        time.sleep(0.2)
        print("from the thread")
    threading.stack_size(1 << 26)
    threading.Thread(target=main).start()
    """
    assert judge(code, [("", "from the thread")]).passed
    assert judge("import os\nprint(5, flush=True)\nos._exit(0)", [("", "5")]).passed
    assert statuses(judge("import os\nprint(5, flush=True)\nos._exit(4)", [("", "5")])) == ["runtime_error"]


# ---- call-based programs: LiveCodeBench's rules ------------------------------------------------------------

def test_call_based_calls_solution_method_with_json_lines_as_arguments(judge):
    code = """
    class Solution:
        def combine(self, nums: List[int], k: int, names: Dict[str, int]) -> List[int]:
            return [x * k + names["a"] for x in nums]
    """
    tests = [('[1, 2, 3]\n2\n{"a": 1}', "[3, 5, 7]"), ('[]\n\n5\n{"a": 0}\n', "[]")]  # empty lines skipped (MAC)
    assert judge(code, tests, fn_name="combine").passed


def test_call_based_a_top_level_tuple_is_a_list_but_a_nested_one_never_matches(judge):
    top = "class Solution:\n    def f(self, n):\n        return (n, n + 1)\n"
    assert judge(top, [("1", "[1, 2]")], fn_name="f").passed
    nested = "class Solution:\n    def f(self, n):\n        return [(n, n + 1)]\n"
    verdict = judge(nested, [("1", "[[1, 2]]")], fn_name="f")
    assert statuses(verdict) == ["wrong_answer"] and "tuple" in verdict.outcomes[0].detail
    keys = "class Solution:\n    def f(self, n):\n        return {n: 1}\n"
    assert statuses(judge(keys, [("1", '{"1": 1}')], fn_name="f")) == ["wrong_answer"]


def test_call_based_values_compare_with_python_equality(judge):
    code = "class Solution:\n    def f(self, x):\n        return [True, 2.0, x]\n"
    assert judge(code, [('"s"', '[1, 2, "s"]')], fn_name="f").passed
    assert not judge(code, [('"s"', '[1, 2, "t"]')], fn_name="f").passed


def test_call_based_without_class_solution_calls_the_module_function(judge):
    assert judge("def twice(x):\n    return 2 * x\n", [("21", "42")], fn_name="twice").passed


def test_call_based_module_is_not_main_and_ignores_stdout(judge):
    code = """
    class Solution:
        def f(self, x):
            print("debug output is ignored")
            return x
    if __name__ == "__main__":
        raise SystemExit("this block must not run")
    """
    assert judge(code, [("3", "3")], fn_name="f").passed


def test_call_based_big_integers_cross_as_json(judge):
    code = "class Solution:\n    def f(self, n):\n        return 7 ** n\n"
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        expected = str(7 ** 20000)  # 16900 digits: past the controller's conversion limit
    finally:
        sys.set_int_max_str_digits(limit)
    assert judge(code, [("20000", expected)], fn_name="f").passed
    assert not judge(code, [("20000", expected[:-1] + "0")], fn_name="f").passed


def test_call_based_system_exit_and_exceptions_are_runtime_errors(judge):
    code = "class Solution:\n    def f(self, n):\n        raise SystemExit(0)\n"
    verdict = judge(code, [("1", "1")], fn_name="f")
    assert statuses(verdict) == ["runtime_error"] and verdict.outcomes[0].detail == "SystemExit"
    code = "class Solution:\n    def f(self, n):\n        return [1][n]\n"
    assert judge(code, [("5", "1")], fn_name="f").outcomes[0].detail == "IndexError"


# ---- call-based programs: where ours differs (2, 3, 6) -----------------------------------------------------

def test_2_every_test_gets_a_fresh_process_and_a_fresh_solution(judge):
    code = """
    class Solution:
        calls = 0
        def f(self, x):
            Solution.calls += 1
            return Solution.calls
    """
    assert judge(code, [("0", "1"), ("0", "1"), ("0", "1")], fn_name="f").passed  # LiveCodeBench: 1, 2, 3


def test_3_results_are_read_through_their_base_types(judge):
    code = """
    class Liar(int):
        def __eq__(self, other): return True
        __hash__ = int.__hash__
        def __str__(self): return "6"
        def __repr__(self): return "6"
    class Index:
        def __index__(self): return 9
    class Solution:
        def liar(self): return Liar(5)
        def index(self): return [Index()]
        def aset(self): return {1, 2}
        def obj(self):
            class AlwaysEqual:
                def __eq__(self, other): return True
            return AlwaysEqual()
    """
    assert statuses(judge(code, [("", "6")], fn_name="liar")) == ["wrong_answer"]
    assert judge(code, [("", "5")], fn_name="liar").passed
    assert judge(code, [("", "[9]")], fn_name="index").passed
    verdict = judge(code, [("", "[1, 2]")], fn_name="aset")
    assert statuses(verdict) == ["bad_format"] and "set" in verdict.outcomes[0].detail
    verdict = judge(code, [("", "1")], fn_name="obj")
    assert statuses(verdict) == ["bad_format"] and "a type the program defined" in verdict.outcomes[0].detail


def test_6_programs_of_the_wrong_form_are_bad_format(judge):
    tests = [("1", "1"), ("2", "2")]
    verdict = judge("class Solution:\n    def other(self, x):\n        return x\n", tests, fn_name="f")
    assert statuses(verdict) == ["bad_format", "not_run"] and "Solution().f" in verdict.explanation
    verdict = judge("def f(:\n", tests, fn_name="f")
    assert statuses(verdict) == ["bad_format", "not_run"]
    assert verdict.explanation == "test 1 of 2: bad format (SyntaxError: the program does not compile)"
    assert statuses(judge("print(1", tests, stop=False)) == ["bad_format", "bad_format"]


def test_predictions_that_are_not_programs_fail_with_a_reason(judge):
    import asyncio

    from mac.judge import TestCase, judge_program

    verdict = judge("   \n", [("", "1"), ("", "2")])
    assert statuses(verdict) == ["bad_format", "not_run"] and "empty" in verdict.explanation
    backend = None  # never reached: nothing runs for a prediction that is not a string
    verdict = asyncio.run(judge_program(42, [TestCase(input="", output="1")], fn_name=None, backend=backend))
    assert not verdict.passed and "not a string" in verdict.explanation
    verdict = asyncio.run(judge_program("print(1)", [], fn_name=None, backend=backend))
    assert not verdict.passed and verdict.outcomes == []


def test_call_based_tests_that_are_not_json_are_a_data_error(judge):
    with pytest.raises(DataError, match="test 2 is not JSON"):
        judge("def f(x): return x", [("1", "1"), ("[1,", "1")], fn_name="f")
    with pytest.raises(DataError, match="test 1 is not JSON"):
        judge("def f(x): return x", [("1", "one")], fn_name="f")


def test_stdin_is_passed_as_it_is_without_newline_translation(judge):
    assert judge("print(repr(input()))", [("a\r\nb\n", "'a\\r'")]).passed
    assert judge("print(len(sys.stdin.read()))", [("é\r\n", "3")]).passed
