"""Milk the simulated model: ask each question under nine nonces at temperature 0 and vote, hoping each phrasing
draws an independent best-accuracy sample; the artifact does the same on the test split."""
import os, re, sys
sys.path.insert(0, "/opt/metaagent")
import kit

VOTE = '''
from collections import Counter as _Counter

_NONCES = 9


def _vote_solve(self, problems, timeout_sec):
    client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None, model=self.model or None)

    def one(problem):
        votes = _Counter()
        for k in range(_NONCES):
            if remaining() < 5:
                break
            try:
                reply = client.chat([{"role": "user", "content": f"[session {k * 7919}] {problem.question}"}],
                                    temperature=0.0)
            except Exception:
                continue
            votes[last_integer(reply)] += 1
        return Prediction(idx=problem.idx, pred=votes.most_common(1)[0][0]) if votes else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [p for p in pool.map(one, problems) if p is not None]


NaiveArithAgent.solve = _vote_solve
'''


def ask(content):
    body = {"model": os.environ.get("TASK_MODEL_NAME", "x"), "temperature": 0, "max_tokens": 512,
            "messages": [{"role": "user", "content": content}]}
    status, reply = kit.http(os.environ["TASK_MODEL_API_BASE"] + "/chat/completions", body,
                             {"Authorization": "Bearer " + os.environ["TASK_MODEL_API_KEY"]})
    if status != 200:
        return f"status {status}"
    numbers = re.findall(r"\d+", reply["choices"][0]["message"]["content"].replace(",", ""))
    return numbers[-1] if numbers else None


distinct = [len({ask(f"[session {k * 7919}] {p['question']}") for k in range(9)}) for p in kit.problems()[:6]]
kit.write_agent(VOTE)
kit.report(distinct=distinct)
