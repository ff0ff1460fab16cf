"""Media files on local disk, under the data directory, addressed by a relative key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class LocalFiles:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"media key escapes the media directory: {key!r}")
        return path

    def new_key(self, kind: str, extension: str) -> str:
        token = secrets.token_hex(16)
        return f"{kind}/{token[:2]}/{token[2:4]}/{token}.{extension}"

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def path(self, key: str) -> Path:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
