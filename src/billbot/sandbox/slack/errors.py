"""How the stand-in refuses a Web API call: `{"ok": false, "error": ...}` as Slack answers."""

from __future__ import annotations


class SlackApiRefusal(Exception):
    """A refusal with Slack's error code and, like Slack, optional detail messages."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error if not messages else f"{error}: {'; '.join(messages)}")
        self.error = error
        self.messages = messages or []

    def answer(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body
