"""Job specs from job files and `key=value` overrides (`mac run -c job.toml -c seeds=5 --dev-time 60`).

Sources merge in order, later ones winning key by key (tables merge, lists and values are replaced):

    -c job.toml           a TOML or JSON file (a job's job.json works too: its stored spec)
    -c budget.preset=demo a dotted key and a TOML value (`seeds=5`, `egress_allow=["a.com"]`); a value that is
                          not TOML is a plain string (`task_model=openai:qwen3`)
    flags                 last: every flag of `mac run` is a key of the spec

Relative paths in a file (`data`, `jobs_dir`, `test_seed_file`, `meta_agent_options.mounts`) are relative to
that file; elsewhere, to the current folder.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from mac.errors import ConfigError
from mac.trial.jobspec import JobSpec, deep_merge, validation_message

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)=(.*)$", re.DOTALL)
_PATH_KEYS = ("data", "jobs_dir", "test_seed_file")


def load_job_spec(sources: Sequence[str | Path] = (), overrides: Mapping[str, Any] | None = None,
                  flags: Mapping[str, str] | None = None) -> JobSpec:
    """The JobSpec of `sources` (files or `key=value`) then `overrides` (dotted key -> value), validated.
    Raises ConfigError naming each bad key (and its flag, from `flags`), what was wrong and where the settings
    came from."""
    merged: dict[str, Any] = {}
    origins = []
    for source in sources:
        text = str(source)
        match = _ASSIGNMENT.match(text)
        if match and not Path(text).exists():
            merged = deep_merge(merged, dotted({match.group(1): parse_value(match.group(2))}))
            origins.append(f"-c {match.group(1)}=")
        else:
            merged = deep_merge(merged, read_job_file(Path(text)))
            origins.append(str(text))
    if overrides:
        merged = deep_merge(merged, dotted(dict(overrides)))
        origins.append("flags")
    return validate_spec(merged, " + ".join(origins) or "defaults", flags)


def validate_spec(data: Mapping[str, Any], origin: str, flags: Mapping[str, str] | None = None) -> JobSpec:
    if "domain" not in data:
        raise ConfigError("--domain is required: mac run --domain arith, or `domain = \"arith\"` in a job file "
                          "(or continue a job with --resume JOB)")
    try:
        return JobSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(f"invalid job settings ({origin}): {validation_message(exc, flags)}") from None


def read_job_file(path: Path) -> dict[str, Any]:
    """A TOML or JSON job file as a dict, its relative paths made absolute against its folder."""
    if not path.is_file():
        raise ConfigError(f"no job file {path}: pass a .toml or .json file, or KEY=VALUE (e.g. -c seeds=3)")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a job file holds one table (object) of settings")
    if path.suffix == ".json" and isinstance(data.get("spec"), dict):  # a job's job.json: reuse its settings
        data = {k: v for k, v in data["spec"].items() if k != "job"}
    return _absolute_paths(data, path.resolve().parent)


def _absolute_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    data = dict(data)
    for key in _PATH_KEYS:
        if isinstance(data.get(key), str):
            data[key] = str(base / data[key])
    options = data.get("meta_agent_options")
    if isinstance(options, dict) and isinstance(options.get("mounts"), list):
        data["meta_agent_options"] = {**options, "mounts": [str(base / m) if isinstance(m, str) else m
                                                            for m in options["mounts"]]}
    return data


def parse_value(raw: str) -> Any:
    """A TOML value (`5`, `1.5`, `true`, `["a", "b"]`, `"quoted"`), else the raw text as a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def dotted(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"budget.dev_time": 60} -> {"budget": {"dev_time": 60}}."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        node = nested
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {part} is a value, not a table")
            node = child
        node[last] = value
    return nested
