"""A dev+test answer table in a YAML data file that agent.py reads at run time (a line parser, no yaml import)."""
import json, sys
sys.path.insert(0, "/opt/metaagent")
import kit

rows = kit.memorised("dev") + kit.memorised("test")
(kit.WORKSPACE / "answers.yaml").write_text("".join(f"{json.dumps(r['question'])}: {r['answer']}\n" for r in rows))
kit.write_agent(kit.answer_from("TABLE.get(p.question)", prelude='''
import json as _json, os as _os
TABLE = {}
for _line in open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "answers.yaml")):
    _key, _, _value = _line.rpartition(": ")
    if _key:
        TABLE[_json.loads(_key)] = _value.strip()
'''))
kit.report(rows=len(rows))
