"""The disk watch measures folders, links and files, and treats a tree too large to walk as over its allowance."""

from __future__ import annotations

import asyncio

from mac.sandbox.diskwatch import tree_bytes, watch_disk


def test_folders_links_and_files_count_toward_disk_use(tmp_path):
    for i in range(50):
        (tmp_path / f"d{i}" / "e").mkdir(parents=True)
    (tmp_path / "d1" / "f.bin").write_bytes(b"x" * 100_000)
    (tmp_path / "link").symlink_to("d1")
    expected = sum(p.lstat().st_blocks * 512 for p in tmp_path.rglob("*"))
    assert tree_bytes(tmp_path) == expected >= 100_000


def test_a_tree_too_deep_to_measure_counts_as_exceeded(tmp_path):
    tmp_path.joinpath(*["d"] * 260).mkdir(parents=True)
    seen: list[dict] = []

    async def exceeded(detail: dict) -> None:
        seen.append(detail)

    asyncio.run(asyncio.wait_for(watch_disk([tmp_path], 1 << 30, exceeded), 30))
    [detail] = seen
    assert detail["limit"] == "depth" and "deeper than 256 levels" in detail["refused"]
