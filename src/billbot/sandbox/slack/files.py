"""Files, uploaded the way Slack now requires (files.upload is retired):

1. `files.getUploadURLExternal` (filename, length) answers an `upload_url` and a `file_id`;
2. the app POSTs the bytes to that URL (raw, or a multipart form), which answers
   `200 OK - <length>`;
3. `files.completeUploadExternal` (files=[{id, title}], channel_id or channels, thread_ts,
   initial_comment) finishes the upload and shares the file as a message from the bot.

`files.info` describes a file; its `url_private`/`url_private_download` serve the bytes only
with the bot token as `Authorization: Bearer` (anything else is redirected to the sign-in
page, as Slack does). Where Slack's documentation is silent the stand-in is strict: bytes of
another length than declared are refused (400), an upload URL takes one upload, and
completing a file whose bytes never arrived answers `file_not_found`. A shared file shows as
a message whose text is the comment, or the file's title when there is none.
"""

from __future__ import annotations

import json
import mimetypes
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.file_store import StoredFile
from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace

# The bot scopes each method needs (Slack's method pages); downloads need files:read too.
SCOPES: dict[str, tuple[str, ...]] = {
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "files.info": ("files:read",),
    "url_private": ("files:read",),
}

MAX_FILE_BYTES = 1024 ** 3  # Slack's 1 GB per file
MAX_SNIPPET_BYTES = 1024 ** 2  # snippets are limited to 1 MB
MAX_ALT_TXT = 1000


def get_upload_url_external(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    filename, alt_txt = params.get("filename"), params.get("alt_txt")
    snippet_type = params.get("snippet_type")
    if not isinstance(filename, str) or not filename.strip():
        raise SlackApiRefusal("invalid_arguments", ["[ERROR] missing required field: filename"])
    length = _length(params.get("length"))
    if length > MAX_FILE_BYTES:
        raise SlackApiRefusal("invalid_arguments", ["[ERROR] length must be at most 1 GB"])
    if snippet_type and length > MAX_SNIPPET_BYTES:
        raise SlackApiRefusal("snippet_too_large")
    if isinstance(alt_txt, str) and len(alt_txt) > MAX_ALT_TXT:
        raise SlackApiRefusal("alt_txt_too_large")
    stored = ws.files.new(name=filename, length=length, user=ws.bot_user_id,
                          alt_txt=alt_txt if isinstance(alt_txt, str) else None,
                          snippet_type=snippet_type if isinstance(snippet_type, str) else None)
    return {"upload_url": f"{_base(ws)}/upload/v1/{stored.upload_key}", "file_id": stored.id}


def complete_upload_external(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    entries = _file_entries(params.get("files"))
    channels = _share_targets(ws, params)
    thread_ts = params.get("thread_ts")
    if thread_ts and len(channels) != 1:
        raise SlackApiRefusal("invalid_arguments", ["thread_ts takes exactly one channel"])
    for entry in entries:  # every file must be ready before any is completed
        stored = ws.files.get(entry["id"])
        if stored is None or stored.content is None or stored.completed:
            raise SlackApiRefusal("file_not_found")
    done = [ws.files.complete(entry["id"], entry.get("title")) for entry in entries]
    comment = params.get("initial_comment")
    for channel in channels:
        text = comment if isinstance(comment, str) and comment else \
            ", ".join(f.title for f in done)
        message = ws.post_message(method="files.completeUploadExternal", channel=channel,
                                  text=text, blocks=None, thread_ts=thread_ts)
        for stored in done:
            ws.files.record_share(stored.id, message.channel, message.ts)
    return {"files": [{"id": f.id, "title": f.title} for f in done]}


def files_info(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    stored = ws.files.get(str(params.get("file") or ""))
    if stored is None:
        raise SlackApiRefusal("file_not_found")
    return {"file": file_object(ws, stored), "comments": [],
            "response_metadata": {"next_cursor": ""}}


METHODS = {
    "files.getUploadURLExternal": get_upload_url_external,
    "files.completeUploadExternal": complete_upload_external,
    "files.info": files_info,
}


def file_object(ws: SlackWorkspace, stored: StoredFile) -> JsonDict:
    """A file as files.info shows it."""
    mimetype = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    filetype = stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else "binary"
    private = f"{_base(ws)}/files-pri/{ws.team_id}-{stored.id}"
    name = quote(stored.name)
    public, ims = {}, []
    for channel_id, stamps in stored.shares.items():
        channel = ws.channel(channel_id)
        if channel is not None and channel.is_im:
            ims.append(channel_id)
            continue
        public[channel_id] = [{"ts": ts, "channel_name": channel.name if channel else "",
                               "team_id": ws.team_id, "share_user_id": stored.user,
                               "reply_count": 0} for ts in stamps]
    body: JsonDict = {
        "id": stored.id, "created": stored.created, "timestamp": stored.created,
        "name": stored.name, "title": stored.title, "mimetype": mimetype,
        "filetype": filetype, "pretty_type": filetype.upper(), "user": stored.user,
        "user_team": ws.team_id, "editable": False, "size": stored.length, "mode": "hosted",
        "is_external": False, "external_type": "", "is_public": bool(public),
        "public_url_shared": False, "display_as_bot": False, "username": "",
        "url_private": f"{private}/{name}", "url_private_download": f"{private}/download/{name}",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{stored.user}/{stored.id}/{name}",
        "permalink_public": f"https://slack-files.com/{ws.team_id}-{stored.id}",
        "channels": list(public), "groups": [], "ims": ims,
        "shares": {"public": public} if public else {}, "comments_count": 0,
    }
    if stored.alt_txt is not None:
        body["alt_txt"] = stored.alt_txt
    return body


def file_routes(ws: SlackWorkspace) -> list[Route]:
    """The upload URLs and url_private downloads, served beside the Web API."""

    async def upload(request: Request) -> Response:
        content = await _uploaded_bytes(request)
        try:
            stored = ws.files.receive(request.path_params["key"], content)
        except LookupError:
            return PlainTextResponse("Not Found", status_code=404)
        except ValueError as exc:
            return PlainTextResponse(f"Bad Request - {exc}", status_code=400)
        return PlainTextResponse(f"OK - {stored.length}")

    async def download(request: Request) -> Response:
        team, _, file_id = request.path_params["ref"].partition("-")
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        stored = ws.files.get(file_id)
        if scheme.lower() != "bearer" or ws.credentials.kind(token.strip()) != "bot":
            # Slack sends a browser without the token to its sign-in page.
            return RedirectResponse(f"{_base(ws)}/?redir={quote(request.url.path)}", 302)
        if team != ws.team_id or stored is None or stored.content is None:
            return PlainTextResponse("Not Found", status_code=404)
        mimetype = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
        return Response(stored.content, media_type=mimetype)

    return [
        Route("/upload/v1/{key}", upload, methods=["POST"]),
        Route("/files-pri/{ref}/download/{name}", download, methods=["GET"]),
        Route("/files-pri/{ref}/{name}", download, methods=["GET"]),
    ]


async def _uploaded_bytes(request: Request) -> bytes:
    """Raw bytes, or the file part of a multipart form (Slack accepts both)."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        return await request.body()
    form = await request.form()
    for _, value in form.multi_items():
        if not isinstance(value, str):
            return await value.read()
    return b""


def _length(value: Any) -> int:
    if value is None or value == "":
        raise SlackApiRefusal("invalid_arguments", ["[ERROR] missing required field: length"])
    try:
        length = int(value)
    except (TypeError, ValueError):
        raise SlackApiRefusal("invalid_arguments", ["[ERROR] length must be an integer"]) \
            from None
    if length == 0:
        raise SlackApiRefusal("missing_argument")  # Slack's answer to a length of 0
    if length < 0:
        raise SlackApiRefusal("invalid_arguments", ["[ERROR] length must be positive"])
    return length


def _file_entries(value: Any) -> list[JsonDict]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise SlackApiRefusal("invalid_arguments", ["files is not valid JSON"]) from None
    if not isinstance(value, list) or not value or not all(
            isinstance(e, dict) and isinstance(e.get("id"), str) for e in value):
        raise SlackApiRefusal("invalid_arguments",
                              ["files must be a non-empty array of {id, title}"])
    return value


def _share_targets(ws: SlackWorkspace, params: JsonDict) -> list[str]:
    """channel_id and/or channels (comma-separated); none keeps the file private."""
    targets = [str(params["channel_id"])] if params.get("channel_id") else []
    channels = params.get("channels")
    if isinstance(channels, str):
        targets += [c.strip() for c in channels.split(",") if c.strip()]
    for channel_id in dict.fromkeys(targets):
        channel = ws.channel(channel_id)
        if channel is None and ws.user(channel_id) is None:
            raise SlackApiRefusal("channel_not_found")
        if channel is not None and not channel.is_im \
                and not channel.has_member(ws.bot_user_id):
            raise SlackApiRefusal("not_in_channel")
    return list(dict.fromkeys(targets))


def _base(ws: SlackWorkspace) -> str:
    return ws.base_url or "http://slack-standin.invalid"
