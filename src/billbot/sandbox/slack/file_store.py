"""The files a workspace holds, from the upload URL being handed out to the file's shares
(the Web API methods and routes over it are in files.py)."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

from billbot.clock import Clock
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.ids import IdSource


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    user: str
    created: int
    upload_key: str
    title: str = ""
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    shares: dict[str, list[str]] = field(default_factory=dict)  # channel -> message ts


class FileStore:
    def __init__(self, lock: threading.RLock, ids: IdSource, clock: Clock) -> None:
        self._lock, self._ids, self._clock = lock, ids, clock
        self._files: dict[str, StoredFile] = {}

    def new(self, *, name: str, length: int, user: str, alt_txt: str | None,
            snippet_type: str | None) -> StoredFile:
        with self._lock:
            stored = StoredFile(self._ids.object_id("F"), name, length, user,
                                int(self._clock.now().timestamp()), self._ids.token(24),
                                title=name, alt_txt=alt_txt, snippet_type=snippet_type)
            self._files[stored.id] = stored
            return copy.deepcopy(stored)

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            found = self._files.get(file_id)
            return copy.deepcopy(found) if found else None

    def all(self) -> list[StoredFile]:
        """Every file, oldest first (copies)."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values()]

    def receive(self, upload_key: str, content: bytes) -> StoredFile:
        """The bytes POSTed to an upload URL; LookupError for an unknown or spent URL."""
        with self._lock:
            stored = next((f for f in self._files.values() if f.upload_key == upload_key
                           and f.content is None), None)
            if stored is None:
                raise LookupError("no upload waits at this URL")
            if len(content) != stored.length:
                raise ValueError(f"{len(content)} bytes sent, {stored.length} declared")
            stored.content = content
            return copy.deepcopy(stored)

    def complete(self, file_id: str, title: str | None) -> StoredFile:
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None or stored.content is None or stored.completed:
                raise SlackApiRefusal("file_not_found")
            stored.completed = True
            if title:
                stored.title = title
            return copy.deepcopy(stored)

    def record_share(self, file_id: str, channel: str, ts: str) -> None:
        with self._lock:
            self._files[file_id].shares.setdefault(channel, []).append(ts)
