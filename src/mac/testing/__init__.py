"""Honest fakes shipped as product code: servers that stand in for what is outside MAC (upstream LLMs, remote models)."""
