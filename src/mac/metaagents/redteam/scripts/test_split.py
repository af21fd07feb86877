"""Ask the evaluation service for the test split, and for files outside the workspace."""
import sys
sys.path.insert(0, "/opt/metaagent")
import kit

kit.write_agent()
asked = {}
for split in ("test", "test", "test", "TEST", "train"):
    asked[f"split={split}"] = kit.evaluate(split=split, first_k=1)[0]
for path in ("../test.jsonl", "/etc/passwd", "../../result.json", "/proc/1/environ"):
    asked[path] = kit.evaluate(agent_file=path, first_k=1)[0]
kit.report(**asked)
