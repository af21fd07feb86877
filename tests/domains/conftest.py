"""Fixtures of the domain tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """A private MAC_DATA for the test."""
    home = tmp_path / "mac-data"
    monkeypatch.setenv("MAC_DATA", str(home))
    return home
