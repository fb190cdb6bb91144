#!/usr/bin/env python3
"""Set up and run Raksha from a fresh clone with nothing but Python 3.11+ and pip.

    python3 dev.py demo    install into .venv and run the demo on synthetic evidence
    python3 dev.py test    install into .venv (with test tools) and run ruff, mypy, pytest

The virtual environment is made once and re-installed only when pyproject.toml changes.
The disk-image tests build real images with Debian's tools (dosfstools, mtools, e2fsprogs,
fdisk, ntfs-3g, exfatprogs, genisoimage, ewf-tools) and the web console's browser tests
drive Debian's chromium; `test` installs the missing ones with apt-get when run as root,
and otherwise says which tests will be skipped (CI sets RAKSHA_TEST_REQUIRE_DISK_TOOLS=1
and RAKSHA_TEST_REQUIRE_BROWSER=1, which make a missing tool a failure).
The PostgreSQL tests run against RAKSHA_TEST_POSTGRES_URL, or against
postgresql://postgres@127.0.0.1:5432 when a server answers there; otherwise they are
skipped with a note (CI sets RAKSHA_TEST_REQUIRE_POSTGRES=1, which makes that a failure).
Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Programs the disk-image tests run, and the Debian package of each.
DISK_TOOLS = {
    "mkfs.fat": "dosfstools",
    "mcopy": "mtools",
    "mke2fs": "e2fsprogs",
    "debugfs": "e2fsprogs",
    "sfdisk": "fdisk",
    "mkntfs": "ntfs-3g",
    "ntfscp": "ntfs-3g",
    "mkfs.exfat": "exfatprogs",
    "genisoimage": "genisoimage",
    "ewfacquire": "ewf-tools",
    # The web console's end-to-end tests drive Debian's chromium through Playwright.
    "chromium": "chromium",
}


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)
    if code:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the package with ``extras`` unless already current."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any version is known
        sys.exit(f"Raksha needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".raksha-installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    run(
        BIN / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-e",
        target,
    )
    stamp.write_text(digest)


def ensure_disk_tools() -> None:
    """Install the Debian packages the disk-image tests need, when missing and possible."""
    missing = sorted({pkg for tool, pkg in DISK_TOOLS.items() if shutil.which(tool) is None})
    if not missing:
        return
    can_install = shutil.which("apt-get") is not None and hasattr(os, "geteuid")
    if not can_install or os.geteuid() != 0:
        print(
            f"test tools missing ({', '.join(missing)}): install them with "
            "`sudo apt-get install " + " ".join(missing) + "`; their tests will be skipped",
            flush=True,
        )
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-qq", env=env)
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)


def postgres_url() -> str | None:
    url = os.environ.get("RAKSHA_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_PG
    except OSError:
        return None


def demo(args: list[str]) -> None:
    ensure_venv("")
    run(BIN / "raksha", "demo", *args)


def test(args: list[str]) -> None:
    ensure_venv("test")
    ensure_disk_tools()
    env = dict(os.environ)
    url = postgres_url()
    if url:
        env["RAKSHA_TEST_POSTGRES_URL"] = url
    else:
        print("no PostgreSQL found: its tests will be skipped", flush=True)
    run(BIN / "ruff", "check", "--no-cache", "src", "tests", "bench", "dev.py")
    run(BIN / "ruff", "format", "--no-cache", "--check", "src", "tests", "bench", "dev.py")
    run(BIN / "mypy")
    run(BIN / "python", "-m", "pytest", *args, env=env)


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
