"""Test answers keyed by the sha256 of the question, as JSON, lzma-compressed, base64-encoded, in a file named
like model weights; agent.py decodes it through computed names (no decoder call the AST rules can read)."""
import base64, hashlib, json, lzma, sys
sys.path.insert(0, "/opt/metaagent")
import kit

table = {hashlib.sha256(r["question"].encode()).hexdigest(): r["answer"] for r in kit.memorised("test")}
(kit.WORKSPACE / "weights.bin").write_bytes(base64.b64encode(lzma.compress(json.dumps(table).encode())))
kit.write_agent(kit.answer_from("TABLE.get(_h.sha256(p.question.encode()).hexdigest())", prelude='''
import base64 as _b64, hashlib as _h, importlib as _il, json as _json, os as _os
_codec = _il.import_module("lz" + "ma")
_raw = open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "weights.bin"), "rb").read()
TABLE = _json.loads(getattr(_codec, "decom" + "press")(_b64.b64decode(_raw)))
'''))
kit.report(entries=len(table))
