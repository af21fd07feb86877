"""Image layers are untrusted input: whatever a layer holds, nothing lands outside the rootfs, no device node or
setuid bit is planted, whiteouts apply, and a size limit holds. Each case is an attack that must fail."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from envkit import entry, tar_layer
from mac.environments.unpack import LayerApplier, Limits
from mac.errors import ImageError


def apply(root, *layers, owner=None, limits=None):
    applier = LayerApplier(str(root), owner, limits)
    try:
        for layer in layers:
            applier.apply(io.BytesIO(layer))
    finally:
        applier.close()
    return applier.stats


@pytest.fixture
def rootfs(tmp_path):
    """rootfs/ beside outside/ (a sentinel folder that no layer may touch)."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("host secret")
    (tmp_path / "rootfs").mkdir()
    return tmp_path / "rootfs"


def untouched(rootfs):
    outside = rootfs.parent / "outside"
    return sorted(os.listdir(outside)) == ["secret"] and (outside / "secret").read_text() == "host secret"


def test_dotdot_and_absolute_names_stay_inside(rootfs):
    stats = apply(rootfs, tar_layer([entry("../outside/pwned", data=b"x"), entry("/abs/file", data=b"ok"),
                                     entry("./a/../../outside/pwned2", data=b"x")]))
    assert (rootfs / "abs" / "file").read_text() == "ok"
    assert [reason for _, reason in stats.skipped] == ["dotdot", "dotdot"]
    assert untouched(rootfs)


def test_symlinks_planted_by_an_earlier_layer_are_never_followed(rootfs):
    outside = rootfs.parent / "outside"
    lower = tar_layer([entry("etc", tarfile.SYMTYPE, link=str(outside)), entry("up", tarfile.SYMTYPE, link="../outside"),
                       entry("f", tarfile.SYMTYPE, link=str(outside / "secret"))])
    upper = tar_layer([entry("etc/pwned", data=b"x"), entry("up/pwned", data=b"x"), entry("up/deep/pwned", data=b"x"),
                       entry("f", data=b"replaced the link, not its target")])
    stats = apply(rootfs, lower, upper)
    assert untouched(rootfs)
    assert {reason for _, reason in stats.skipped} == {"symlink-parent"}
    assert os.readlink(rootfs / "etc") == str(outside)  # the link itself is kept: it resolves inside the sandbox
    assert not (rootfs / "f").is_symlink() and (rootfs / "f").read_text().startswith("replaced")


def test_hard_links_must_stay_inside(rootfs):
    outside = rootfs.parent / "outside"
    layer = tar_layer([entry("etc", tarfile.SYMTYPE, link=str(outside)), entry("ok.txt", data=b"in"),
                       entry("h1", tarfile.LNKTYPE, link="../outside/secret"),
                       entry("h2", tarfile.LNKTYPE, link="etc/secret"), entry("h3", tarfile.LNKTYPE, link="ok.txt")])
    stats = apply(rootfs, layer)
    assert not (rootfs / "h1").exists() and not (rootfs / "h2").exists()
    assert (rootfs / "h3").read_text() == "in"
    assert os.stat(outside / "secret").st_nlink == 1 and untouched(rootfs)
    assert sorted(reason for _, reason in stats.skipped) == ["hardlink-outside", "symlink-parent"]


def test_whiteouts_and_opaque_folders(rootfs):
    lower = tar_layer([entry("a/b.txt", data=b"b"), entry("a/c.txt", data=b"c"), entry("d/old.txt", data=b"old"),
                       entry("d/sub/x", data=b"x")])
    upper = tar_layer([entry("a/.wh.b.txt", data=b""), entry("d/new.txt", data=b"new"),
                       entry("d/.wh..wh..opq", data=b""), entry(".wh.gone", data=b"")])
    apply(rootfs, lower, upper)
    assert sorted(os.listdir(rootfs / "a")) == ["c.txt"]
    assert sorted(os.listdir(rootfs / "d")) == ["new.txt"]


def test_setuid_dropped_devices_skipped_owner_set(rootfs):
    layer = tar_layer([entry("bin/su", data=b"#!/bin/sh\n", mode=0o4755), entry("shared", tarfile.DIRTYPE, mode=0o2775),
                       entry("dev/sda", tarfile.BLKTYPE), entry("dev/mem", tarfile.CHRTYPE),
                       entry("pipe", tarfile.FIFOTYPE)])
    stats = apply(rootfs, layer, owner=(12345, 12346))
    assert stat.S_IMODE(os.stat(rootfs / "bin" / "su").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(rootfs / "shared").st_mode) & 0o6000 == 0
    assert not (rootfs / "dev" / "sda").exists() and not (rootfs / "dev" / "mem").exists()
    assert sorted(reason for _, reason in stats.skipped) == ["device", "device"]
    assert stat.S_ISFIFO(os.lstat(rootfs / "pipe").st_mode)
    if os.geteuid() == 0:
        assert (os.lstat(rootfs / "bin" / "su").st_uid, os.lstat(rootfs / "bin" / "su").st_gid) == (12345, 12346)


def test_size_and_entry_limits(rootfs):
    with pytest.raises(ImageError, match="MiB"):
        apply(rootfs, tar_layer([entry("big", data=b"x" * 5000)]), limits=Limits(max_bytes=4000))
    with pytest.raises(ImageError, match="entries"):
        apply(rootfs, tar_layer([entry(f"f{i}", data=b"") for i in range(20)]), limits=Limits(max_entries=10))


def test_not_a_tar_names_the_fix(rootfs):
    with pytest.raises(ImageError, match="tar stream"):
        apply(rootfs, b"\x28\xb5\x2f\xfd" + b"zstd-ish garbage" * 10)
