"""Building the image as an air-gapped builder does: a Debian base made with debootstrap and
`docker import` (no registry is reachable), and a wheelhouse made on the host (`pip wheel`),
so the build installs with `--no-index` and nothing is downloaded inside a container.

Both are cached: the base by its image tag, the wheelhouse by a stamp holding the hash of
pyproject.toml (the dependencies), so a warm run only builds the image.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = REPO / "wheelhouse"
BASE_TAG = "billbot-test-base:bookworm-minbase"
IMAGE_TAG = "billbot-image-test:latest"
# Every image the test builds carries it, so older builds of the tag can be pruned.
IMAGE_LABEL = "org.billbot.image-test=1"
DEBOOTSTRAP = ["debootstrap", "--variant=minbase",
               "--include=python3,python3-venv,python3-pip,ca-certificates", "bookworm"]


class BuildFailed(AssertionError):
    """A step of the build failed; the message carries the end of its output."""


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and done.returncode != 0:
        raise BuildFailed(f"docker {' '.join(args[:2])} failed ({done.returncode}):\n"
                          f"{(done.stdout + done.stderr)[-3000:]}")
    return done


def docker_unavailable() -> str | None:
    """Why the image cannot be built here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker command (.ci/run installs docker.io and starts its daemon)"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0 or not info.stdout.strip():
        return f"no Docker daemon answers `docker info`: {info.stderr.strip()[-300:]}"
    if not image_exists(BASE_TAG):
        if shutil.which("debootstrap") is None:
            return f"no {BASE_TAG} image and no debootstrap to make it (.ci/run installs it)"
        if os.geteuid() != 0:
            return f"no {BASE_TAG} image, and debootstrap needs root to make it"
    return None


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False, timeout=30).returncode == 0


def _dependency_stamp() -> str:
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f".deps-{digest}"


def start_base_image() -> subprocess.Popen[bytes] | None:
    """Start debootstrap (about a minute) unless the base image exists; `finish_base_image`
    imports what it made. Run beside `ensure_wheelhouse`, the two overlap."""
    if image_exists(BASE_TAG):
        return None
    root = Path(tempfile.mkdtemp(prefix="billbot-base-"))
    log = (root.parent / f"{root.name}.log").open("wb")
    return subprocess.Popen([*DEBOOTSTRAP, str(root / "rootfs")], stdout=log,
                            stderr=subprocess.STDOUT)


def finish_base_image(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    rootfs = Path(str(process.args[-1]))  # type: ignore[index]
    log = rootfs.parent.parent / f"{rootfs.parent.name}.log"
    try:
        if process.wait(timeout=900) != 0:
            raise BuildFailed(f"debootstrap failed:\n{log.read_text(errors='replace')[-3000:]}")
        # The downloaded .debs are not part of the system: leave them out of the image.
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(["docker", "import", "--change", "ENV LANG=C.UTF-8", "-",
                                   BASE_TAG], stdin=tar.stdout, capture_output=True,
                                  timeout=300, check=False)
        tar.wait(timeout=60)
        if imported.returncode != 0 or tar.returncode != 0:
            raise BuildFailed(f"docker import failed: {imported.stderr.decode()[-2000:]}")
    finally:
        shutil.rmtree(rootfs.parent, ignore_errors=True)
        log.unlink(missing_ok=True)


def ensure_wheelhouse() -> None:
    """Wheels of every dependency and of the build backend in ./wheelhouse, made on the host
    (whose pip reaches the index); the project itself is built from source in the image."""
    stamp = WHEELHOUSE / _dependency_stamp()
    if stamp.exists():
        return
    for old in WHEELHOUSE.glob(".deps-*"):
        old.unlink()
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(WHEELHOUSE),
         str(REPO), "setuptools>=68", "wheel"],
        capture_output=True, text=True, timeout=900, check=False)
    if built.returncode != 0:
        raise BuildFailed(f"pip wheel failed:\n{built.stderr[-3000:]}")
    for own in WHEELHOUSE.glob("billbot-*.whl"):
        own.unlink()  # a stale copy of the project must never stand in for the source
    stamp.write_text("wheels for pyproject.toml with this hash are here\n")


def build_image() -> str:
    """`docker build` of the repository with the base and the wheelhouse; the image's tag."""
    docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={BASE_TAG}",
           "--label", IMAGE_LABEL, "--tag", IMAGE_TAG, str(REPO), timeout=900)
    # Earlier builds of the tag are left untagged: drop them (their layers stay cached).
    docker("image", "prune", "--force", "--filter", f"label={IMAGE_LABEL}", check=False)
    return IMAGE_TAG
