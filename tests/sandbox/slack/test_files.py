"""Uploading and sharing a file the way Slack requires, through slack_sdk's own client, and
reading it back with files.info and url_private (bot token only)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.standin import ALICE, BOT_TOKEN, FINANCE, served_workspace

PDF = b"%PDF-1.4 a tiny invoice\n"


@pytest.fixture
def ws() -> Iterator[SlackWorkspace]:
    yield from served_workspace()


@pytest.fixture
def client(ws: SlackWorkspace) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url)


async def test_slack_sdk_upload_shares_the_file_in_a_thread(ws: SlackWorkspace,
                                                            client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=FINANCE, text="Bill BILL-1")
    answer = await client.files_upload_v2(
        channel=FINANCE, thread_ts=parent["ts"], content=PDF, filename="invoice.pdf",
        title="Invoice BILL-1", initial_comment="The supplier's invoice")
    (shared,) = answer["files"]
    (reply,) = ws.thread(FINANCE, parent["ts"])
    assert reply.text == "The supplier's invoice"
    assert [c.method for c in ws.calls()][-2:] == [
        "files.getUploadURLExternal", "files.completeUploadExternal"]

    info = (await client.files_info(file=shared["id"]))["file"]
    assert info["title"] == "Invoice BILL-1"
    assert (info["name"], info["size"], info["mimetype"]) == (
        "invoice.pdf", len(PDF), "application/pdf")
    assert info["channels"] == [FINANCE]
    assert info["shares"]["public"][FINANCE][0]["ts"] == reply.ts

    async with httpx.AsyncClient() as http:
        for url in (info["url_private"], info["url_private_download"]):
            with_token = await http.get(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"})
            assert (with_token.status_code, with_token.content) == (200, PDF)
            without = await http.get(url)
            assert without.status_code == 302  # Slack's sign-in page, not the file
            forged = await http.get(url, headers={"Authorization": "Bearer xoxb-forged"})
            assert forged.status_code == 302


async def test_the_upload_url_takes_the_declared_bytes_once(ws: SlackWorkspace,
                                                             client: AsyncWebClient) -> None:
    ticket = await client.files_getUploadURLExternal(filename="a.csv", length=4)
    async with httpx.AsyncClient() as http:
        short = await http.post(ticket["upload_url"], content=b"abc")
        assert short.status_code == 400
        ok = await http.post(ticket["upload_url"], files={"file": ("a.csv", b"a,b\n")})
        assert (ok.status_code, ok.text) == (200, "OK - 4")
        again = await http.post(ticket["upload_url"], content=b"a,b\n")
        assert again.status_code == 404


@pytest.mark.parametrize(("args", "error"), [
    ({"filename": "a.txt"}, "invalid_arguments"),
    ({"length": 3}, "invalid_arguments"),
    ({"filename": "a.txt", "length": 0}, "missing_argument"),
    ({"filename": "a.txt", "length": "three"}, "invalid_arguments"),
    ({"filename": "a.txt", "length": 2 * 1024 ** 3}, "invalid_arguments"),
    ({"filename": "a.py", "length": 2 * 1024 ** 2, "snippet_type": "python"},
     "snippet_too_large"),
    ({"filename": "a.png", "length": 3, "alt_txt": "x" * 1001}, "alt_txt_too_large"),
])
async def test_get_upload_url_refuses_what_slack_refuses(
        client: AsyncWebClient, args: dict[str, object], error: str) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.api_call("files.getUploadURLExternal", params=args)
    assert refused.value.response["error"] == error


async def test_complete_refuses_unknown_unsent_and_misplaced_files(
        ws: SlackWorkspace, client: AsyncWebClient) -> None:
    ticket = await client.files_getUploadURLExternal(filename="a.txt", length=2)

    async def complete(**kwargs: object) -> str:
        with pytest.raises(SlackApiError) as refused:
            await client.files_completeUploadExternal(**kwargs)  # type: ignore[arg-type]
        return str(refused.value.response["error"])

    assert await complete(files=[{"id": ticket["file_id"]}]) == "file_not_found"  # no bytes
    assert await complete(files=[{"id": "F0NOPE"}]) == "file_not_found"
    async with httpx.AsyncClient() as http:
        await http.post(ticket["upload_url"], content=b"hi")
    ws.add_channel("C0SECRET", "secret", members=[ALICE])
    assert await complete(files=[{"id": ticket["file_id"]}], channel_id="C0SECRET") == \
        "not_in_channel"
    assert await complete(files=[{"id": ticket["file_id"]}], channel_id="C0GONE") == \
        "channel_not_found"
    assert await complete(files=[{"id": ticket["file_id"]}], channels=[FINANCE, ALICE],
                          thread_ts="1.000001") == "invalid_arguments"
    # Without a channel the file stays private: completed, shared nowhere.
    done = await client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}])
    assert done["files"] == [{"id": ticket["file_id"], "title": "a.txt"}]
    info = (await client.files_info(file=ticket["file_id"]))["file"]
    assert (info["channels"], info["is_public"]) == ([], False)
    assert await complete(files=[{"id": ticket["file_id"]}]) == "file_not_found"  # spent


async def test_files_info_of_an_unknown_file(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.files_info(file="F0NOPE")
    assert refused.value.response["error"] == "file_not_found"
