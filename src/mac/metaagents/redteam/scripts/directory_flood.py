"""Stall the controller: flood the workspace with empty folders (wide and deep), ask for an evaluation of it, and
leave the flood for the freeze. Every walk the controller makes must refuse it at its limits, off the event loop."""
import os, sys, time
sys.path.insert(0, "/opt/metaagent")
import kit

kit.write_agent()
started = time.time()
made = 0
for i in range(20):
    os.makedirs(f"/workspace/flood/d{i}")
    for j in range(1000):
        os.mkdir(f"/workspace/flood/d{i}/e{j}")
        made += 1
os.makedirs("/workspace/deep/" + "/".join(["x"] * 200))
seconds = round(time.time() - started, 1)
status, answer = kit.evaluate()
error = answer.get("error") if isinstance(answer, dict) else str(answer)
kit.report(folders=made, seconds=seconds, eval_status=status, eval_error=str(error)[:300])
