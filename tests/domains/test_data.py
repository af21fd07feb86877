"""Data loading errors name file, line and field; `mac data import/list/show` and `mac domains` work end to end."""

from __future__ import annotations

import stat

import pytest
from domkit import aime_row, science_row, write_jsonl
from typer.testing import CliRunner

from mac.cli import app
from mac.domains import get_domain
from mac.domains.data import import_files, status
from mac.errors import ConfigError, DataError

runner = CliRunner()


def test_missing_folder_names_the_fix(data_home):
    with pytest.raises(DataError) as err:
        get_domain("aime").load("dev")
    assert str(data_home / "aime") in str(err.value)
    assert "mac data import aime" in str(err.value) and "mac data pull aime" in str(err.value)


def test_missing_file_names_the_file(tmp_path):
    (tmp_path / "aime").mkdir()
    with pytest.raises(DataError) as err:
        get_domain("aime").load("test", tmp_path / "aime")
    assert err.value.file == str(tmp_path / "aime" / "test.jsonl") and "file not found" in str(err.value)


def test_bad_json_line_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "aime" / "dev.jsonl", [aime_row(0), '{"id": 1, "question": "Q",', aime_row(2)])
    with pytest.raises(DataError) as err:
        get_domain("aime").load("dev", tmp_path / "aime")
    assert err.value.file == str(path) and err.value.line == 2 and f"{path}:2" in str(err.value)
    assert "invalid JSON" in str(err.value)


@pytest.mark.parametrize("missing", ["id", "question", "answer"])
def test_missing_field_names_file_line_and_field(tmp_path, missing):
    row = {k: v for k, v in aime_row(1).items() if k != missing}
    path = write_jsonl(tmp_path / "aime" / "dev.jsonl", [aime_row(0), aime_row(2), row])
    with pytest.raises(DataError) as err:
        get_domain("aime").load("dev", tmp_path / "aime")
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 3, missing)
    assert f"{path}:3: field {missing!r}" in str(err.value)


def test_non_object_line_and_empty_file(tmp_path):
    write_jsonl(tmp_path / "science" / "dev.jsonl", [science_row(0), "[1, 2]"])
    with pytest.raises(DataError, match=r"dev.jsonl:2: each line must be a JSON object"):
        get_domain("science").load("dev", tmp_path / "science")
    (tmp_path / "science" / "test.jsonl").write_text("\n\n")
    with pytest.raises(DataError, match="no records"):
        get_domain("science").load("test", tmp_path / "science")


def _files(tmp_path, dev_rows, test_rows, name="aime"):
    return (write_jsonl(tmp_path / "in" / f"{name}-dev.jsonl", dev_rows),
            write_jsonl(tmp_path / "in" / f"{name}-test.jsonl", test_rows))


def test_import_command_validates_then_copies_privately(tmp_path, data_home):
    dev, test = _files(tmp_path, [aime_row(i) for i in range(3)], [aime_row(10 + i) for i in range(2)])
    result = runner.invoke(app, ["data", "import", "aime", "--dev", str(dev), "--test", str(test)])
    assert result.exit_code == 0, result.output
    assert "3 dev, 2 test" in result.output
    folder = data_home / "aime"
    assert (folder / "dev.jsonl").read_bytes() == dev.read_bytes()
    assert (folder / "test.jsonl").read_bytes() == test.read_bytes()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "test.jsonl").stat().st_mode) == 0o600
    assert [r.id for r in get_domain("aime").load("test")] == ["10", "11"]


def test_import_refuses_to_replace_without_force(tmp_path, data_home):
    dev, test = _files(tmp_path, [aime_row(0)], [aime_row(1)])
    assert runner.invoke(app, ["data", "import", "aime", "--dev", str(dev), "--test", str(test)]).exit_code == 0
    again = runner.invoke(app, ["data", "import", "aime", "--dev", str(dev), "--test", str(test)])
    assert again.exit_code == 2 and "--force" in again.output
    dev2, test2 = _files(tmp_path, [aime_row(5)], [aime_row(6), aime_row(7)], name="v2")
    forced = runner.invoke(app, ["data", "import", "aime", "--dev", str(dev2), "--test", str(test2), "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(get_domain("aime").load("test")) == 2
    assert sorted(p.name for p in data_home.iterdir()) == ["aime"]  # no staging or backup folders left


def test_invalid_import_leaves_nothing_and_names_the_line(tmp_path, data_home):
    dev, test = _files(tmp_path, [aime_row(0)], [aime_row(1), {"id": 2, "question": "Q"}])
    result = runner.invoke(app, ["data", "import", "aime", "--dev", str(dev), "--test", str(test)])
    assert result.exit_code == 2
    assert "test.jsonl:2" in result.output.replace("\n", "") and "'answer'" in result.output
    assert not (data_home / "aime").exists()


def test_import_rejects_a_test_question_seen_in_dev(tmp_path, data_home):
    dev, test = _files(tmp_path, [aime_row(0), aime_row(1)], [aime_row(5), aime_row(1)])
    with pytest.raises(DataError) as err:
        import_files("aime", dev, test)
    assert err.value.line == 2 and err.value.field == "question" and "held out" in str(err.value)


def test_arith_needs_no_import(tmp_path, data_home):
    dev, test = _files(tmp_path, [aime_row(0)], [aime_row(1)])
    with pytest.raises(ConfigError, match="--data DIR"):
        import_files("arith", dev, test)
    result = runner.invoke(app, ["data", "pull", "arith"])
    assert result.exit_code == 2 and "generated" in result.output


def test_list_and_show(tmp_path, data_home):
    dev, test = _files(tmp_path, [science_row(i) for i in range(4)], [science_row(10)], name="science")
    import_files("science", dev, test)
    assert status("science").counts == {"dev": 4, "test": 1}
    assert status("aime").source == "missing"
    assert status("arith").source == "generated" and status("arith").counts == {"dev": 60, "test": 60}
    listed = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "science" in listed.output and "mac data pull aime" in listed.output
    shown = runner.invoke(app, ["data", "show", "science", "-n", "2"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "Question 1: which option is right?" in shown.output
    assert "B) option 1 of 1" in shown.output and "answer:" not in shown.output
    with_answers = runner.invoke(app, ["data", "show", "arith", "-n", "1", "--answers"], env={"COLUMNS": "200"})
    assert with_answers.exit_code == 0 and f"answer: {get_domain('arith').load('dev')[0].answer}" in with_answers.output


def test_domains_command_lists_default_budgets():
    result = runner.invoke(app, ["domains"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("aime", "science", "arith"):
        assert name in result.output
    assert "12 h" in result.output and "1 h" in result.output
    assert get_domain("aime").default_budget().dev_time_sec == 12 * 3600
    assert get_domain("science").default_budget().dev_time_sec == 12 * 3600
    assert get_domain("arith").default_budget().dev_time_sec < 12 * 3600


def test_import_refuses_duplicate_ids_and_leaves_nothing(tmp_path, data_home):
    twice = {**aime_row(2), "id": "0"}  # another question, the same id as the first record
    dev, test = _files(tmp_path, [aime_row(0), aime_row(1), twice], [aime_row(5)])
    result = runner.invoke(app, ["data", "import", "aime", "--dev", str(dev), "--test", str(test)])
    assert result.exit_code == 2, result.output
    message = result.output.replace("\n", "")
    assert "aime-dev.jsonl:3" in message and "duplicate id '0' (first on record 1)" in message
    assert not (data_home / "aime").exists()


def test_every_domain_load_takes_the_test_seed_keyword():
    """Callers (eval, trials, verify, audit) pass `seed=` to every domain's `load`: an override that drops it
    breaks the domain everywhere (science and lcb once did)."""
    import inspect

    from mac.domains import domain_names, get_domain

    for name in domain_names():
        parameters = inspect.signature(get_domain(name).load).parameters
        assert "seed" in parameters and parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY, name
