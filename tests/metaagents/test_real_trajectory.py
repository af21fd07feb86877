"""The converters of native tool logs into the common trajectory, on logs written the way an untrusted sandbox
may write them: garbage lines, repeated usage, oversized content, a symlink instead of a file."""

from __future__ import annotations

import json
import os

from mac.metaagents import get_metaagent
from mac.metaagents.trajectory import MAX_CONTENT_CHARS, TRAJECTORY_VERSION, iter_json_lines, read_trajectory

KEYS = {"ANTHROPIC_API_KEY": "k1", "OPENAI_API_KEY": "k2", "GEMINI_API_KEY": "k3"}


def _lines(*events) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def test_claude_stream_json_counts_each_message_once_and_takes_the_tools_totals(tmp_path, monkeypatch):
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    usage = {"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 50}
    native = tmp_path / "n.jsonl"
    native.write_text(_lines(
        {"type": "system", "subtype": "init", "model": "m"}, "not json {", '["a list"]',
        {"type": "assistant", "message": {"id": "a", "content": [{"type": "text", "text": "x" * 30000}], "usage": usage}},
        {"type": "assistant", "message": {"id": "a", "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                                                   "input": {"command": "ls"}}], "usage": usage}},
        {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1",
                                                  "content": [{"type": "text", "text": "agent.py"}]}]}},
        {"type": "result", "subtype": "success", "result": "done", "total_cost_usd": 0.5,
         "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 2}}))
    steps, usage_out = get_metaagent("claude-code").convert(native)
    assert [s.role for s in steps] == ["event", "assistant", "assistant", "tool", "event"]
    assert steps[1].tokens.input == 150 and steps[2].tokens.input == 0  # same message id: counted once
    assert len(steps[1].content) < MAX_CONTENT_CHARS + 100 and "cut by MAC" in steps[1].content
    assert steps[3].content == "agent.py" and steps[3].tool_call_id == "t1"
    assert (usage_out.input_tokens, usage_out.output_tokens, usage_out.cost_usd) == (9, 3, 0.5)


def test_codex_and_gemini_events(tmp_path, monkeypatch):
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    codex = tmp_path / "c.jsonl"
    codex.write_text(_lines(
        {"type": "thread.started"},
        {"type": "item.completed", "item": {"id": "i1", "type": "command_execution", "command": "ls",
                                            "aggregated_output": "agent.py\n", "exit_code": 0}},
        {"type": "item.completed", "item": {"id": "i2", "type": "agent_message", "text": "done"}},
        {"type": "turn.completed", "usage": {"input_tokens": 40, "cached_input_tokens": 8, "output_tokens": 4}},
        {"type": "turn.completed", "usage": {"input_tokens": -5, "output_tokens": "lots"}}))
    steps, usage = get_metaagent("codex").convert(codex)
    assert [s.role for s in steps] == ["assistant", "tool", "assistant", "event", "event"]
    assert steps[0].tool_calls[0].arguments == {"command": "ls"} and "exit 0" in steps[1].content
    assert (usage.input_tokens, usage.cached_tokens, usage.output_tokens) == (40, 8, 4)

    gemini = tmp_path / "g.jsonl"
    gemini.write_text(_lines(
        {"type": "message", "role": "user", "content": "Build agent.py"},
        {"type": "message", "role": "assistant", "content": "I will ", "delta": True},
        {"type": "message", "role": "assistant", "content": "write it.", "delta": True},
        {"type": "tool_use", "tool_name": "run_shell_command", "tool_id": "g1", "parameters": {"command": "ls"}},
        {"type": "tool_result", "tool_id": "g1", "status": "success", "output": "agent.py"},
        {"type": "result", "status": "success", "stats": {"input_tokens": 30, "output_tokens": 6, "cached": 1}}))
    steps, usage = get_metaagent("gemini-cli").convert(gemini)
    assert [s.role for s in steps] == ["user", "assistant", "tool", "event"]
    assert steps[1].content == "I will write it." and steps[1].tool_calls[0].name == "run_shell_command"
    assert (usage.input_tokens, usage.output_tokens, usage.reported_by) == (30, 6, "tool")


def test_native_logs_behind_symlinks_are_not_read(tmp_path):
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"type": "answer", "value": 42}\n')
    link = tmp_path / "native.jsonl"
    os.symlink(secret, link)
    assert list(iter_json_lines(link)) == []
    assert list(iter_json_lines(secret)) == [{"type": "answer", "value": 42}]
    assert read_trajectory(tmp_path) == [] and TRAJECTORY_VERSION == "mac-trajectory-1"
