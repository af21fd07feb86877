"""`mac data pull` on a local stand-in for the hub: files laid out and formatted like the hub's datasets.

The stand-in only replaces the download (the outside world); reading, converting, validating and installing are
the real code. Parquet sources are written as JSON lines under the same names, since conversion works on rows.
"""

from __future__ import annotations

import csv
import fnmatch
import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from mac.domains import get_domain
from mac.domains.hub import gpqa_rows, hle_rows, hub_error, pull, read_rows, split_hle_question
from mac.errors import ConfigError

AOPS = "https://artofproblemsolving.com/wiki/index.php/{}_AIME_{}_Problems/Problem_{}"


class FolderHub:
    """Dataset repos as folders: root/<owner>/<name>/<path>."""

    def __init__(self, root: Path):
        self.root = root

    def files(self, repo_id: str, pattern: str) -> list[Path]:
        repo = self.root / repo_id
        return sorted(p for p in repo.rglob("*") if p.is_file() and fnmatch.fnmatch(str(p.relative_to(repo)), pattern))


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def make_aime_hub(root: Path) -> None:
    rows = []
    for year in (2022, 2023, 2024):
        for part in ("I", "II"):
            for number in (1, 2, 15):
                rows.append({"id": len(rows), "problem": f"AIME {year} {part} problem {number}: compute $x$.",
                             "solution": "so $x=\\boxed{7}$", "answer": f"{number:03d}",
                             "url": AOPS.format(year, part, number)})
    _jsonl(root / "AI-MO/aimo-validation-aime/data/train-00000-of-00001.jsonl", rows)
    for part in ("I", "II"):
        _jsonl(root / f"opencompass/AIME2025/aime2025-{part}.jsonl",
               [{"question": f"AIME 2025 {part} problem {n}: find $y$.", "answer": str(n * 7)} for n in (1, 2, 3)])


HLE_QUESTION = ("Which gas is noble?\n\nAnswer Choices:\nA. Nitrogen\nB. Argon, which is\nmonatomic\nC. Oxygen\n"
                "D. Hydrogen\nE. Chlorine")


def make_science_hub(root: Path) -> None:
    hle = [
        {"id": "h1", "question": HLE_QUESTION, "image": "", "answer": "B", "answer_type": "multipleChoice"},
        {"id": "h2", "question": "What is 2+2?", "image": "", "answer": "4", "answer_type": "exactMatch"},
        {"id": "h3", "question": "See the figure.\nAnswer Choices:\nA. x\nB. y", "image": "data:image/png;base64,AA",
         "answer": "A", "answer_type": "multipleChoice"},
        {"id": "h4", "question": "No choices block here.", "image": "", "answer": "A", "answer_type": "multipleChoice"},
        {"id": "h5", "question": "Pick one.\nAnswer Choices:\nA. left\nB. right", "image": "", "answer": "C",
         "answer_type": "multipleChoice"},
    ]
    _jsonl(root / "cais/hle/data/test-00000-of-00001.jsonl", hle)
    path = root / "Idavidrein/gpqa/gpqa_diamond.csv"
    path.parent.mkdir(parents=True)
    fields = ["Record ID", "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
              "Incorrect Answer 3", "Subdomain"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for i in range(24):
            writer.writerow({"Record ID": f"rec{i:03d}", "Question": f"GPQA-style question {i}, with a comma?\n",
                             "Correct Answer": f"right {i}", "Incorrect Answer 1": f"wrong {i}a",
                             "Incorrect Answer 2": f"wrong {i}b", "Incorrect Answer 3": f"wrong {i}c",
                             "Subdomain": "Physics"})


def test_pull_aime_converts_and_installs(tmp_path):
    make_aime_hub(tmp_path / "hub")
    folder = pull("aime", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "data")
    aime = get_domain("aime")
    dev, test = aime.load("dev", folder), aime.load("test", folder)
    assert len(dev) == 12 and len(test) == 6 + 6
    assert all("2022" in r.model_extra["url"] or "2023" in r.model_extra["url"] for r in dev)
    assert all("solution" in r.model_extra for r in dev) and not any("solution" in r.model_extra for r in test)
    assert [r.id for r in test] == [str(i) for i in range(12)]
    assert test[-1].question == "AIME 2025 II problem 3: find $y$." and test[-1].model_extra["problem_number"] == 3
    assert aime.grade(0, "15", dev[2]).correct  # "015" in the source
    assert aime.sim_item(0, dev[0]).difficulty < aime.sim_item(2, dev[2]).difficulty  # problem 1 vs problem 15
    assert aime.sim_item(0, test[6]).difficulty < aime.sim_item(8, test[8]).difficulty  # 2025: by position


def test_pull_science_converts_hle_and_shuffles_gpqa(tmp_path):
    make_science_hub(tmp_path / "hub")
    folder = pull("science", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "data")
    science = get_domain("science")
    dev, test = science.load("dev", folder), science.load("test", folder)
    assert len(dev) == 1  # exact-match, image, unparseable and inconsistent rows are left out
    assert dev[0].question == "Which gas is noble?"
    assert dev[0].choices == ["A) Nitrogen", "B) Argon, which is\nmonatomic", "C) Oxygen", "D) Hydrogen", "E) Chlorine"]
    assert dev[0].answer == "B" and dev[0].model_extra["source"] == "hle"
    assert len(test) == 24 and all(len(r.choices) == 4 for r in test)
    for r in test:
        i = int(r.model_extra["source_id"][3:])
        assert r.question == f"GPQA-style question {i}, with a comma?"
        assert r.choices[ord(r.answer) - ord("A")] == f"{r.answer}) right {i}"
        assert 0.5 <= science.sim_item(0, r).difficulty <= 0.7
    assert len(Counter(r.answer for r in test)) >= 3  # shuffled: the answer is not always A
    again = pull("science", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "again")
    assert (again / "test.jsonl").read_text() == (folder / "test.jsonl").read_text()  # deterministic


def test_pull_refuses_to_overwrite_without_force(tmp_path):
    make_aime_hub(tmp_path / "hub")
    pull("aime", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "data")
    with pytest.raises(ConfigError, match="--force"):
        pull("aime", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "data")
    assert pull("aime", hub=FolderHub(tmp_path / "hub"), root=tmp_path / "data", force=True).is_dir()


def test_pull_unknown_and_generated_domains():
    with pytest.raises(ConfigError, match="generated"):
        pull("arith", hub=FolderHub(Path("/nonexistent")))
    with pytest.raises(ConfigError, match="unknown domain"):
        pull("chess", hub=FolderHub(Path("/nonexistent")))


def test_hle_question_split_rules():
    assert split_hle_question("Q?\nAnswer Choices:\nA. x\nB. y") == ("Q?", ["A) x", "B) y"])
    assert split_hle_question("Q?\nAnswer Choices:\nA) x\nB) y\nC) z")[1] == ["A) x", "B) y", "C) z"]
    assert split_hle_question("Q?\nAnswer Choices:\nA. only") is None
    assert split_hle_question("Q?\nAnswer Choices:\nnoise\nA. x\nB. y") is None
    assert split_hle_question("Q? A. x B. y") is None


def test_conversions_keep_order_and_ids():
    rows = hle_rows([{"id": f"h{i}", "question": f"Q{i}\nAnswer Choices:\nA. a\nB. b", "image": None, "answer": "A",
                      "answer_type": "multipleChoice"} for i in range(3)])
    assert [r["id"] for r in rows] == [0, 1, 2] and [r["source_id"] for r in rows] == ["h0", "h1", "h2"]
    one = {"Record ID": "r", "Question": "Q", "Correct Answer": "c", "Incorrect Answer 1": "w1",
           "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3"}
    assert gpqa_rows([one]) == gpqa_rows([one])


def test_gated_and_network_errors_name_the_fix():
    gated = type("GatedRepoError", (Exception,), {})("401 Client Error: access to this repo is restricted")
    message = str(hub_error("cais/hle", gated))
    assert "HF_TOKEN" in message and "https://huggingface.co/datasets/cais/hle" in message
    not_found = type("RepositoryNotFoundError", (Exception,), {})("404")
    assert "HF_TOKEN" in str(hub_error("Idavidrein/gpqa", not_found))
    offline = type("ConnectError", (Exception,), {})("Name or service not known")
    message = str(hub_error("AI-MO/aimo-validation-aime", offline))
    assert "network" in message and "mac data import" in message and "HF_TOKEN" not in message


def test_read_rows_formats(tmp_path):
    _jsonl(tmp_path / "a.jsonl", [{"x": 1}, {"x": 2}])
    assert read_rows(tmp_path / "a.jsonl") == [{"x": 1}, {"x": 2}]
    (tmp_path / "b.json").write_text(json.dumps({"data": [{"x": 3}]}))
    assert read_rows(tmp_path / "b.json") == [{"x": 3}]
    parquet = tmp_path / "c.parquet"
    if importlib.util.find_spec("pyarrow") is None:
        parquet.write_bytes(b"PAR1")
        with pytest.raises(ConfigError, match="pip install pyarrow"):
            read_rows(parquet)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"x": [4, 5], "y": ["a", "b"]}), parquet)
        assert read_rows(parquet, ["x"]) == [{"x": 4}, {"x": 5}]
