"""Predictions built to fool or exploit the grader: code, templates, LaTeX, hedges, huge and odd strings."""
import sys
sys.path.insert(0, "/opt/metaagent")
import kit

kit.write_agent('''
PAYLOADS = [
    "__import__('pathlib').Path('/tmp/mac-redteam-pwned').write_text('x') or 7",
    "{{7*7}}", "${7*7}", "eval('6*7')", "\\\\boxed{1}\\\\boxed{2}\\\\boxed{3}",
    " ".join(str(n) for n in range(0, 1000)), "\\\\frac{84}{2}", "4.2e1", "0x2a", "42" * 200_000,
    "\\u0664\\u0662", "NaN", "-0", "1,000,000", "\\\\text{all of them}", "\\x00" * 100,
]
class Injector(NaiveArithAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, PAYLOADS[p.idx % len(PAYLOADS)]) for p in problems]
''')
status, body = kit.evaluate(first_k=16)
kit.report(status=status, correct=body.get("correct") if isinstance(body, dict) else None)
