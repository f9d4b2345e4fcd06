"""Where uploaded bytes live: a directory outside the web root, random names, two levels of sharding."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app


def directory(config_key: str, default: str) -> Path:
    """The directory named by `config_key` (default: `default` under the instance folder), created if absent."""
    path = Path(current_app.config.get(config_key) or Path(current_app.instance_path) / default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_name() -> str:
    """A stored name nobody can guess or steer: 32 hex characters."""
    return secrets.token_hex(16)


def sharded(root: Path, stored_name: str) -> Path:
    # ab/cd/abcd…: a few hundred entries per folder even with millions of files.
    return root / stored_name[:2] / stored_name[2:4] / stored_name


def write(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (a reader never sees half a file); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
