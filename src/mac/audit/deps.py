"""Dependency lists: `pyproject.toml` (PEP 621 and Poetry), `requirements*.txt`, `setup.cfg` install_requires.

Packages that bring other model providers or dataset access, direct URLs (git+https://, file paths) and extra
package indexes are findings; ordinary dependencies are not (artifacts may declare what they need).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from mac.audit import patterns as P
from mac.audit.pyscan import Hit

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PACKAGE_ALIASES = {"google-generativeai": "google.generativeai", "google-genai": "google.genai",
                    "llama-cpp-python": "llama_cpp", "sentence-transformers": "sentence_transformers",
                    "huggingface-hub": "huggingface_hub", "langchain-anthropic": "langchain_anthropic",
                    "langchain-google-genai": "langchain_google_genai", "langchain-community": "langchain_community",
                    "google-cloud-aiplatform": "vertexai", "mistralai": "mistralai", "xai-sdk": "xai_sdk"}


def is_dependency_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return name == "pyproject.toml" or name == "setup.cfg" or (name.startswith("requirements") and name.endswith((".txt", ".in")))


def scan_dependencies(rel: str, text: str) -> list[Hit]:
    """Findings for one dependency file; an unreadable one is itself a (low) finding."""
    name = rel.rsplit("/", 1)[-1].lower()
    if name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return [Hit("deps.unparseable", "low", "unauthorized_package", 0, f"pyproject.toml does not parse: {exc}")]
        return _check_specs(_pyproject_specs(data), text)
    if name == "setup.cfg":
        specs = _setup_cfg_specs(text)
        return _check_specs(specs, text)
    return _check_specs([line for line in text.splitlines()], text)


def _pyproject_specs(data: dict[str, Any]) -> list[str]:
    raw = data.get("project")
    project: dict[str, Any] = raw if isinstance(raw, dict) else {}
    specs = [s for s in project.get("dependencies", []) if isinstance(s, str)]
    for group in (project.get("optional-dependencies") or {}).values():
        specs += [s for s in group if isinstance(s, str)] if isinstance(group, list) else []
    poetry = ((data.get("tool") or {}).get("poetry") or {}) if isinstance(data.get("tool"), dict) else {}
    for key, value in (poetry.get("dependencies") or {}).items():
        specs.append(f"{key} @ {value.get('git') or value.get('url') or value.get('path')}"
                     if isinstance(value, dict) and (value.get("git") or value.get("url") or value.get("path")) else key)
    uv = ((data.get("tool") or {}).get("uv") or {}) if isinstance(data.get("tool"), dict) else {}
    for index in uv.get("index", []) if isinstance(uv.get("index"), list) else []:
        if isinstance(index, dict) and index.get("url"):
            specs.append(f"--index-url {index['url']}")
    return specs


def _setup_cfg_specs(text: str) -> list[str]:
    specs, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("install_requires"):
            inside = True
            rest = line.split("=", 1)[-1].strip()
            specs += [rest] if rest else []
        elif inside and line[:1] in (" ", "\t") and line.strip():
            specs.append(line.strip())
        elif inside:
            inside = False
    return specs


def _check_specs(specs: list[str], text: str) -> list[Hit]:
    hits: list[Hit] = []
    lines = text.splitlines()
    for spec in specs:
        spec = spec.split("#", 1)[0].strip()
        if not spec:
            continue
        line = next((i + 1 for i, ln in enumerate(lines) if spec in ln), 0)
        hit = _check_spec(spec, line)
        if hit:
            hits.append(hit)
    return hits


def _check_spec(spec: str, line: int) -> Hit | None:
    if spec.startswith(("--index-url", "--extra-index-url", "-i ", "--find-links", "-f ", "--trusted-host")):
        return Hit("deps.index", "medium", "unauthorized_package", line, f"uses another package index: {spec[:120]}")
    if spec.startswith(("-e ", "--editable")) or "://" in spec or spec.startswith(("git+", "/", "../", "file:")):
        urls = P.urls_in(spec)
        kind = "external_benchmark_fetch" if P.BENCHMARK_FETCH.search(spec) else "unauthorized_package"
        return Hit("deps.url", "medium", kind, line, f"installs from a URL or path: {(urls or [spec])[0][:120]}")
    match = _NAME.match(spec)
    if not match or spec.startswith("-"):
        return None
    package = match.group(1).lower().replace("_", "-")
    module = _PACKAGE_ALIASES.get(package, package.replace("-", "_"))
    if module in P.PROVIDER_MODULES and P.PROVIDER_MODULES[module] != "low":
        return Hit("deps.provider", P.PROVIDER_MODULES[module], "unauthorized_package", line,
                   f"depends on {package}, a client of another model provider or model runtime")
    if module in P.DATASET_MODULES:
        return Hit("deps.datasets", P.DATASET_MODULES[module], "unauthorized_package", line,
                   f"depends on {package}, which downloads datasets")
    if module in P.NETWORK_MODULES:
        return Hit("deps.network", "low", "unauthorized_package", line, f"depends on the network library {package}")
    return None
