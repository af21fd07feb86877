"""`mac data pull`: fetch the public sets from the Hugging Face hub and convert them to domain files.

| domain | split | source (hub dataset) | conversion |
|---|---|---|---|
| aime | dev | AI-MO/aimo-validation-aime (parquet), AIME 2022-2023 | `aime_rows` |
| aime | test | same, AIME 2024 + opencompass/AIME2025 (jsonl, parts I and II) | `aime_rows`, `aime2025_rows` |
| science | dev | cais/hle (gated; parquet), text-only multiple-choice questions | `hle_rows` |
| science | test | Idavidrein/gpqa (gated; gpqa_diamond.csv), choices shuffled per question | `gpqa_rows` |
| lcb | dev, test | livecodebench/code_generation_lite (test*.jsonl), MAC's date window | `mac.domains.hub_lcb` |

The download goes through a `Hub` (`HubClient` wraps `huggingface_hub`, imported lazily: the `hub` extra);
conversions are pure functions on rows, so they are tested on small local files laid out like the hub's.
Gated datasets need an accepted licence on the hub and `HF_TOKEN` in the environment.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from mac.domains.data import install_rows
from mac.errors import ConfigError, DataError

GATED = {"cais/hle", "Idavidrein/gpqa"}
_AOPS_URL = re.compile(r"/(\d{4})_AIME_(I{1,2})_Problems/Problem_(\d{1,2})\b")
_CHOICE_LINE = re.compile(r"^\s*([A-Z])[.)]\s*(.*)$")
_CHOICES_HEADING = "Answer Choices:"


class Hub(Protocol):
    def files(self, repo_id: str, pattern: str) -> list[Path]:
        """Local copies of the dataset repo's files whose path matches `pattern` (fnmatch), sorted by path."""


class HubClient:
    """The real hub, through `huggingface_hub` (reads `HF_TOKEN`; caches downloads)."""

    def __init__(self) -> None:
        try:
            import huggingface_hub
        except ImportError:
            raise ConfigError("`mac data pull` needs huggingface_hub (the `hub` extra of mac-bench): "
                              "pip install huggingface-hub pyarrow") from None
        self._hub = huggingface_hub

    def download(self, repo_id: str, name: str, *, force: bool = False) -> Path:
        """One file through the hub's cache (resumes a cut-off download; shows the hub's progress bar)."""
        try:
            return Path(self._hub.hf_hub_download(repo_id, name, repo_type="dataset", force_download=force))
        except Exception as exc:  # noqa: BLE001 - the boundary: convert the hub's errors into ours
            raise hub_error(repo_id, exc) from None

    def sha256(self, repo_id: str, names: list[str]) -> dict[str, str]:
        try:
            infos = self._hub.HfApi().get_paths_info(repo_id, names, repo_type="dataset", expand=True)
        except Exception as exc:  # noqa: BLE001
            raise hub_error(repo_id, exc) from None
        return {info.path: info.lfs.sha256 for info in infos if getattr(info, "lfs", None) is not None}

    def revision(self, repo_id: str) -> str:
        try:
            return str(self._hub.HfApi().dataset_info(repo_id).sha)
        except Exception as exc:  # noqa: BLE001
            raise hub_error(repo_id, exc) from None

    def files(self, repo_id: str, pattern: str) -> list[Path]:
        try:
            names = self._hub.HfApi().list_repo_files(repo_id, repo_type="dataset")
            wanted = sorted(n for n in names if fnmatch.fnmatch(n, pattern))
            if not wanted:
                raise DataError(f"no file matching {pattern!r} in dataset {repo_id}; the hub layout changed")
            return [Path(self._hub.hf_hub_download(repo_id, name, repo_type="dataset")) for name in wanted]
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - the boundary: convert the hub's errors into ours
            raise hub_error(repo_id, exc) from None


def hub_error(repo_id: str, exc: Exception) -> ConfigError:
    """A message that names the fix: licence + HF_TOKEN for gated sets, network otherwise."""
    kind, text = type(exc).__name__, str(exc)
    refused = kind == "RepositoryNotFoundError" or "401" in text or "403" in text
    if kind in ("GatedRepoError", "LocalTokenNotFoundError") or (repo_id in GATED and refused):
        return ConfigError(
            f"dataset {repo_id} is gated: accept its terms at https://huggingface.co/datasets/{repo_id} while "
            f"logged in, then set HF_TOKEN to a token of that account ({kind})")
    return ConfigError(f"could not download {repo_id} from the Hugging Face hub ({kind}: {text[:200]}); "
                       f"`mac data pull` needs network access, or import files with `mac data import`")


def read_rows(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a parquet, CSV, JSONL or JSON file (parquet needs pyarrow)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ConfigError("reading the hub's parquet files needs pyarrow: pip install pyarrow") from None
        return pq.read_table(path, columns=columns).to_pylist()
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    text = path.read_text(encoding="utf-8")
    if suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else data.get("data", [])


# -- conversions: rows in the hub's format -> rows of our domain files ------------------------------------------

def aime_rows(rows: list[dict[str, Any]], years: tuple[str, ...], keep_solution: bool) -> list[dict[str, Any]]:
    """AIMO validation rows (id, problem, solution, answer, url) of the given contest years."""
    out: list[dict[str, Any]] = []
    for row in rows:
        m = _AOPS_URL.search(str(row.get("url") or ""))
        if not m or m.group(1) not in years:
            continue
        record = {"id": len(out), "question": str(row["problem"]).strip(), "answer": str(row["answer"]).strip(),
                  "url": row["url"], "problem_number": int(m.group(3))}
        if keep_solution and row.get("solution"):
            record["solution"] = row["solution"]
        out.append(record)
    return out


def aime2025_rows(parts: list[tuple[str, list[dict[str, Any]]]], first_id: int = 0) -> list[dict[str, Any]]:
    """opencompass AIME 2025 rows (question, answer), one list per contest part in problem order."""
    out: list[dict[str, Any]] = []
    for part, rows in parts:
        for number, row in enumerate(rows, 1):
            out.append({"id": first_id + len(out), "question": str(row["question"]).strip(),
                        "answer": str(row["answer"]).strip(), "contest": f"2025 AIME {part}", "problem_number": number})
    return out


def hle_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text-only multiple-choice HLE rows, their "Answer Choices:" block turned into "A) text" choices."""
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.get("answer_type") != "multipleChoice" or row.get("image"):
            continue
        split = split_hle_question(str(row.get("question") or ""))
        answer = str(row.get("answer") or "").strip()
        if split is None or answer not in [c[0] for c in split[1]]:
            continue
        out.append({"id": len(out), "question": split[0], "choices": split[1], "answer": answer, "source": "hle",
                    "source_id": row.get("id")})
    return out


def split_hle_question(text: str) -> tuple[str, list[str]] | None:
    """(stem, ["A) text", ...]) from a question ending in an "Answer Choices:" block; None if it does not parse."""
    head, sep, block = text.rpartition(_CHOICES_HEADING)
    if not sep:
        return None
    letters: list[str] = []
    texts: list[str] = []
    for line in block.strip().splitlines():
        m = _CHOICE_LINE.match(line)
        if m and m.group(1) == chr(ord("A") + len(letters)):
            letters.append(m.group(1))
            texts.append(m.group(2).strip())
        elif texts:
            texts[-1] = (texts[-1] + "\n" + line).strip()  # a choice that spans lines
        elif line.strip():
            return None
    if not 2 <= len(letters) <= 26:
        return None
    return head.rstrip(), [f"{letter}) {t}" for letter, t in zip(letters, texts, strict=True)]


def gpqa_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GPQA rows (Question, Correct Answer, Incorrect Answer 1-3, Record ID) with choices shuffled per question.

    The shuffle is seeded by the record id, so every pull gives the same order and the answer is not always A.
    """
    out: list[dict[str, Any]] = []
    for row in rows:
        options = [str(row["Correct Answer"]).strip()] + [str(row[f"Incorrect Answer {k}"]).strip() for k in (1, 2, 3)]
        order = list(range(4))
        random.Random(f"mac-gpqa/{row.get('Record ID') or row['Question']}").shuffle(order)
        choices = [f"{chr(ord('A') + pos)}) {options[j]}" for pos, j in enumerate(order)]
        out.append({"id": len(out), "question": str(row["Question"]).strip(), "choices": choices,
                    "answer": chr(ord("A") + order.index(0)), "source": "gpqa", "source_id": row.get("Record ID")})
    return out


# -- fetching --------------------------------------------------------------------------------------------------

def fetch_aime(hub: Hub) -> dict[str, list[dict[str, Any]]]:
    aimo = [row for path in hub.files("AI-MO/aimo-validation-aime", "data/train-*") for row in read_rows(path)]
    parts = [(part, read_rows(hub.files("opencompass/AIME2025", f"aime2025-{part}.jsonl")[0])) for part in ("I", "II")]
    test = aime_rows(aimo, ("2024",), keep_solution=False)
    return {"dev": aime_rows(aimo, ("2022", "2023"), keep_solution=True),
            "test": test + aime2025_rows(parts, first_id=len(test))}


def fetch_science(hub: Hub) -> dict[str, list[dict[str, Any]]]:
    columns = ["id", "question", "image", "answer", "answer_type"]
    hle = [row for path in hub.files("cais/hle", "data/test-*") for row in read_rows(path, columns)]
    gpqa = read_rows(hub.files("Idavidrein/gpqa", "gpqa_diamond.csv")[0])
    return {"dev": hle_rows(hle), "test": gpqa_rows(gpqa)}


FETCHERS: dict[str, Callable[[Hub], dict[str, list[dict[str, Any]]]]] = {"aime": fetch_aime, "science": fetch_science}


def pull(name: str, *, hub: Hub | None = None, root: Path | None = None, force: bool = False,
         progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Download, convert, validate and install domain `name`'s public data. Returns the domain folder.
    `progress(stage, done, total)` hears about long steps (lcb's checksums and conversion)."""
    if name == "lcb":
        from mac.domains.hub_lcb import pull_lcb

        return pull_lcb(hub or HubClient(), root=root, force=force, progress=progress)  # type: ignore[arg-type]
    fetch = FETCHERS.get(name)
    if fetch is None:
        from mac.domains.base import get_domain

        extra = " (it is generated: nothing to pull)" if get_domain(name).generated else ""
        raise ConfigError(f"domain {name!r} has no public data to pull{extra}; pullable: "
                          f"{', '.join(sorted([*FETCHERS, 'lcb']))}")
    return install_rows(name, fetch(hub or HubClient()), root=root, force=force)
