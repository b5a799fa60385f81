"""Sharing a file the way Slack now requires (files.upload is retired):
files.getUploadURLExternal (name, length) → POST the bytes to the upload URL →
files.completeUploadExternal (channel, thread, comment) → files.info for the permalink.

Slack's limits are checked before anything is sent, so the person is told in plain words:
a file must hold at least one byte and at most 1 GB; names are clipped to 255 characters
(Slack documents no name limit; file systems and browsers keep to 255).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from slack_sdk.web.async_client import AsyncWebClient

MAX_FILE_BYTES = 1024 ** 3  # Slack: 1 GB per file
MAX_NAME = 255


class FileRefused(Exception):
    """Slack cannot take this file (empty, too large); the message says why, in plain words."""


class UploadFailed(Exception):
    """The upload URL did not take the bytes."""


@dataclass(frozen=True)
class SharedFile:
    file_id: str
    permalink: str


def size_problem(length: int) -> str | None:
    if length <= 0:
        return "The file is empty, and Slack takes no empty file."
    if length > MAX_FILE_BYTES:
        return (f"The file is {length / 1024 ** 3:.1f} GB; Slack takes files of at most 1 GB, "
                "so it was not uploaded.")
    return None


def clip_name(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 10 and stem:
        return stem[: MAX_NAME - len(ext) - 2] + "…." + ext
    return name[: MAX_NAME - 1] + "…"


async def share_file(slack: AsyncWebClient, http: httpx.AsyncClient, *, content: bytes,
                     filename: str, title: str, channel_id: str, thread_ts: str | None,
                     comment: str) -> SharedFile:
    """Upload `content` and share it in the channel (in the thread when `thread_ts`)."""
    problem = size_problem(len(content))
    if problem:
        raise FileRefused(problem)
    name = clip_name(filename)
    ticket = await slack.files_getUploadURLExternal(filename=name, length=len(content))
    file_id, url = str(ticket["file_id"]), str(ticket["upload_url"])
    sent = await http.post(url, files={"file": (name, content)})
    if sent.status_code != 200:
        raise UploadFailed(f"the upload URL answered HTTP {sent.status_code}")
    await slack.files_completeUploadExternal(
        files=[{"id": file_id, "title": title[:MAX_NAME]}], channel_id=channel_id,
        thread_ts=thread_ts, initial_comment=comment)
    info = await slack.files_info(file=file_id)
    return SharedFile(file_id, str(info["file"]["permalink"]))
