"""Image references, OCI layouts (digests checked), the content-addressed cache, listing and pruning."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from envkit import entry, small_image, tar_layer
from mac.environments import oci
from mac.environments.cache import ImageCache
from mac.environments.images import parse_ref
from mac.errors import ImageError


def test_references(tmp_path):
    assert parse_ref("docker://python:3.11").kind == "docker"
    assert parse_ref("ubuntu:22.04") == parse_ref("docker://ubuntu:22.04")
    ref = parse_ref("oci:image", base=tmp_path)
    assert (ref.kind, ref.value, ref.tag) == ("oci", str(tmp_path / "image"), None)
    assert parse_ref("oci:image:v2", base=tmp_path).tag == "v2"
    assert parse_ref("rootfs:/srv/root").value == "/srv/root"
    with pytest.raises(ImageError, match="prefix it"):
        parse_ref("./image")


def test_layout_roundtrip_and_corruption(tmp_path):
    layout = small_image(tmp_path / "img", env={"A": "1"}, workdir="/work", user="builder")
    image = oci.read_layout(layout)
    assert image.config.env == {"A": "1"} and image.config.workdir == "/work" and image.config.user == "builder"
    [layer] = image.layers
    oci.verify_blob(layer)
    layer.path.write_bytes(layer.path.read_bytes() + b"tampered")
    with pytest.raises(ImageError, match="does not match its digest"):
        oci.verify_blob(layer)
    with pytest.raises(ImageError, match="no image tagged"):
        oci.read_layout(layout, "nope")
    with pytest.raises(ImageError, match="not an OCI image layout"):
        oci.read_layout(tmp_path)


def test_cache_is_content_addressed_listed_and_pruned(box):
    cache = ImageCache(box / "cache")
    a = small_image(box / "a")
    shutil.copytree(a, box / "b")  # the same layers under another name
    first = cache.resolve(parse_ref(f"oci:{a}"))
    second = cache.resolve(parse_ref(f"oci:{box / 'b'}"))
    assert first.key == second.key and (first.rootfs / "app" / "README").read_text() == "tiny image\n"
    assert first.config.env == {"GREETING": "hello"} and first.config.workdir == "/app"
    [listed] = cache.entries()
    assert listed["key"] == first.key and listed["files"] == 2
    lease = cache.lease(first)
    try:
        assert cache.prune() == []  # in use: kept
    finally:
        os.close(lease)
    assert [info["key"] for info in cache.prune()] == [first.key]
    assert cache.entries() == [] and not first.rootfs.exists()


def test_corrupt_layer_is_refused_before_unpacking(box):
    layout = small_image(box / "img")
    [layer] = oci.read_layout(layout).layers
    layer.path.write_bytes(tar_layer([entry("evil", data=b"not what the digest says")]))
    with pytest.raises(ImageError, match="does not match"):
        ImageCache(box / "cache").resolve(parse_ref(f"oci:{layout}"))


def test_rootfs_folder_import_and_its_config(box):
    root = box / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=test\n")
    os.symlink("/etc/shadow", root / "shadow-link")  # kept as a link, never read on the host
    (box / "root.mac-image.json").write_text(json.dumps({"env": {"X": "y"}, "workdir": "/etc"}))
    image = ImageCache(box / "cache").resolve(parse_ref(f"rootfs:{root}"))
    assert (image.rootfs / "etc" / "os-release").read_text() == "ID=test\n"
    assert os.readlink(image.rootfs / "shadow-link") == "/etc/shadow"
    assert image.config.env == {"X": "y"} and image.config.workdir == "/etc"


def test_registry_and_dockerfile_without_tools_name_the_alternative(box, monkeypatch):
    monkeypatch.setenv("PATH", str(box))  # no skopeo, podman or buildah here
    cache = ImageCache(box / "cache")
    with pytest.raises(ImageError, match="skopeo.*oci:PATH"):
        cache.resolve(parse_ref("docker://debian:bookworm"))
    (box / "ctx").mkdir()
    (box / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ImageError, match="podman or buildah.*oci:PATH"):
        cache.resolve(parse_ref(f"dockerfile:{box / 'ctx'}"))


def test_shared_layers_keep_each_images_own_config(box):
    cache = ImageCache(box / "cache")
    plain = cache.resolve(parse_ref(f"oci:{small_image(box / 'a')}"))
    other = cache.resolve(parse_ref(f"oci:{small_image(box / 'b', user='builder', workdir='/srv')}"))
    assert plain.key == other.key and plain.rootfs == other.rootfs  # one unpacked rootfs
    assert (plain.config.user, plain.config.workdir) == ("", "/app")
    assert (other.config.user, other.config.workdir) == ("builder", "/srv")


def test_dockerfile_is_built_with_podman_or_buildah(bwrap_env, box):
    import asyncio
    import shutil as sh

    from mac.environments.base import EnvironmentSpec
    from mac.environments.registry import backend_class

    ok, why = backend_class("podman").available()
    if sh.which("buildah") is None and not ok:
        pytest.skip(f"NOT RUN: neither buildah nor a working podman here ({why})")
    (box / "ctx" / "root" / "app").mkdir(parents=True)
    (box / "ctx" / "root" / "app" / "x").write_text("built\n")
    (box / "ctx" / "Dockerfile").write_text("FROM scratch\nCOPY root/ /\nENV BUILT=yes\nWORKDIR /app\n")

    async def body():
        spec = EnvironmentSpec(image=f"dockerfile:{box / 'ctx'}", host_runtime=True)
        async with await bwrap_env.start(spec) as env:
            return await env.exec('echo "$BUILT $(pwd) $(cat x)"')

    assert asyncio.run(body()).stdout == "yes /app built\n"
