"""Block Kit limits Slack enforces on messages and views (guide slack.md, section 3).

The checks run on plain JSON as it arrived over HTTP, so they catch what `slack_sdk.models`
never sees (plain dicts) and what it does not check (block counts per message, unique ids,
field lengths). Each problem carries a JSON pointer, like Slack's own `[json-pointer:...]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_MAX_TEXT = 40_000

_ID_MAX = 255
_BUTTON_STYLES = ("primary", "danger")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

_SELECTS = frozenset({
    "static_select", "multi_static_select", "external_select", "multi_external_select",
    "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
    "channels_select", "multi_channels_select",
})
_TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input",
                          "rich_text_input", "file_input"})
_PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker"})
_CHOICES = frozenset({"radio_buttons", "checkboxes"})
_ACTION_ELEMENTS = _SELECTS | _PICKERS | _CHOICES | {"button", "overflow", "workflow_button"}
_ACCESSORIES = _ACTION_ELEMENTS | {"image"}
_INPUT_ELEMENTS = _SELECTS | _PICKERS | _CHOICES | _TEXT_INPUTS | {"number_input"}
_LEAF_BLOCKS = frozenset({"divider", "rich_text", "file", "video", "markdown", "table"})


@dataclass(frozen=True)
class Problem:
    pointer: str
    problem: str

    def slack_message(self) -> str:
        """As Slack words it in `response_metadata.messages`."""
        return f"[ERROR] {self.problem} [json-pointer:{self.pointer}]"


def check_message_blocks(blocks: Any) -> list[Problem]:
    """Problems with a message's `blocks` (None when absent)."""
    if blocks is None:
        return []
    return _Checker(surface="message").blocks(blocks, "/blocks", MESSAGE_MAX_BLOCKS)


def message_text_problem(text: Any) -> Problem | None:
    if isinstance(text, str) and len(text) > MESSAGE_MAX_TEXT:
        return Problem("/text", f"message text is {len(text)} characters; limit {MESSAGE_MAX_TEXT}")
    return None


def check_view(view: Any) -> list[Problem]:
    """Problems with a view definition (modal or home)."""
    if not isinstance(view, dict):
        return [Problem("/view", "view must be a JSON object")]
    c = _Checker(surface="view")
    out: list[Problem] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        out.append(Problem("/view/type", f"view type must be modal or home, not {kind!r}"))
    if kind == "modal":
        out += c.text(view.get("title"), "/view/title", 24, plain=True)
    for key in ("submit", "close"):
        if key in view:
            out += c.text(view[key], f"/view/{key}", 24, plain=True)
    out += c.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    out += c.string(view.get("callback_id"), "/view/callback_id", _ID_MAX)
    out += c.string(view.get("external_id"), "/view/external_id", _ID_MAX)
    blocks = view.get("blocks")
    out += c.blocks(blocks, "/view/blocks", VIEW_MAX_BLOCKS)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        out.append(Problem("/view/submit", "a modal with input blocks needs a submit button"))
    return out


class _Checker:
    def __init__(self, surface: str) -> None:
        self.surface = surface

    # -- primitives --------------------------------------------------------------------------

    @staticmethod
    def string(value: Any, at: str, limit: int, *, required: bool = False) -> list[Problem]:
        if value is None:
            return [Problem(at, "is required")] if required else []
        if not isinstance(value, str):
            return [Problem(at, "must be a string")]
        if len(value) > limit:
            return [Problem(at, f"is {len(value)} characters; limit {limit}")]
        if required and not value:
            return [Problem(at, "must not be empty")]
        return []

    def text(self, obj: Any, at: str, limit: int, *, plain: bool = False,
             required: bool = True) -> list[Problem]:
        if obj is None:
            return [Problem(at, "text object is required")] if required else []
        if not isinstance(obj, dict):
            return [Problem(at, "must be a text object")]
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            return [Problem(f"{at}/type", f"text type must be {' or '.join(kinds)}, "
                                          f"not {obj.get('type')!r}")]
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            return [Problem(f"{at}/text", "text must be a non-empty string")]
        if len(text) > limit:
            return [Problem(f"{at}/text", f"text is {len(text)} characters; limit {limit}")]
        return []

    def id(self, value: Any, at: str) -> list[Problem]:
        return self.string(value, at, _ID_MAX)

    # -- blocks ------------------------------------------------------------------------------

    def blocks(self, blocks: Any, at: str, limit: int) -> list[Problem]:
        if blocks is None:
            return []
        if not isinstance(blocks, list):
            return [Problem(at, "blocks must be a JSON array")]
        out: list[Problem] = []
        if len(blocks) > limit:
            out.append(Problem(at, f"{len(blocks)} blocks in a {self.surface}; limit {limit}"))
        seen: dict[str, int] = {}
        for i, block in enumerate(blocks):
            where = f"{at}/{i}"
            if not isinstance(block, dict):
                out.append(Problem(where, "block must be a JSON object"))
                continue
            block_id = block.get("block_id")
            out += self.id(block_id, f"{where}/block_id")
            if isinstance(block_id, str):
                if block_id in seen:
                    out.append(Problem(f"{where}/block_id", f"block_id {block_id!r} repeats "
                                                            f"block {seen[block_id]}"))
                seen.setdefault(block_id, i)
            out += self.block(block, where)
        return out

    def block(self, block: dict[str, Any], at: str) -> list[Problem]:
        kind = block.get("type")
        if kind == "section":
            return self.section(block, at)
        if kind == "header":
            return self.text(block.get("text"), f"{at}/text", 150, plain=True)
        if kind == "actions":
            return self.actions(block, at)
        if kind == "context":
            return self.context(block, at)
        if kind == "input":
            return self.input(block, at)
        if kind == "image":
            return self.image(block, at)
        if kind in _LEAF_BLOCKS:
            return []
        return [Problem(f"{at}/type", f"unknown block type {kind!r}")]

    def section(self, block: dict[str, Any], at: str) -> list[Problem]:
        out: list[Problem] = []
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            out.append(Problem(at, "a section needs text or fields"))
        out += self.text(text, f"{at}/text", 3000, required=False)
        if fields is not None:
            if not isinstance(fields, list):
                out.append(Problem(f"{at}/fields", "fields must be an array"))
            else:
                if len(fields) > 10:
                    out.append(Problem(f"{at}/fields", f"{len(fields)} fields; limit 10"))
                for j, f in enumerate(fields):
                    out += self.text(f, f"{at}/fields/{j}", 2000)
        accessory = block.get("accessory")
        if accessory is not None:
            out += self.element(accessory, f"{at}/accessory", allowed=_ACCESSORIES)
        return out

    def actions(self, block: dict[str, Any], at: str) -> list[Problem]:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return [Problem(f"{at}/elements", "an actions block needs 1 or more elements")]
        out: list[Problem] = []
        if len(elements) > 25:
            out.append(Problem(f"{at}/elements", f"{len(elements)} elements; limit 25"))
        seen: set[str] = set()
        for j, element in enumerate(elements):
            where = f"{at}/elements/{j}"
            out += self.element(element, where, allowed=_ACTION_ELEMENTS)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    out.append(Problem(f"{where}/action_id",
                                       f"action_id {action_id!r} repeats within the block"))
                seen.add(action_id)
        return out

    def context(self, block: dict[str, Any], at: str) -> list[Problem]:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return [Problem(f"{at}/elements", "a context block needs 1 or more elements")]
        out: list[Problem] = []
        if len(elements) > 10:
            out.append(Problem(f"{at}/elements", f"{len(elements)} elements; limit 10"))
        for j, element in enumerate(elements):
            where = f"{at}/elements/{j}"
            if isinstance(element, dict) and element.get("type") == "image":
                out += self.image(element, where)
            else:
                out += self.text(element, where, 3000)
        return out

    def input(self, block: dict[str, Any], at: str) -> list[Problem]:
        if self.surface != "view":
            return [Problem(at, "input blocks are only allowed in views (modals, Home)")]
        out = self.text(block.get("label"), f"{at}/label", 2000, plain=True)
        out += self.text(block.get("hint"), f"{at}/hint", 2000, plain=True, required=False)
        element = block.get("element")
        if element is None:
            out.append(Problem(f"{at}/element", "an input block needs an element"))
        else:
            out += self.element(element, f"{at}/element", allowed=_INPUT_ELEMENTS)
        return out

    def image(self, obj: dict[str, Any], at: str) -> list[Problem]:
        out = self.string(obj.get("alt_text"), f"{at}/alt_text", 2000, required=True)
        if "slack_file" not in obj:
            out += self.string(obj.get("image_url"), f"{at}/image_url", 3000, required=True)
        if "title" in obj:
            out += self.text(obj["title"], f"{at}/title", 2000, plain=True)
        return out

    # -- elements ----------------------------------------------------------------------------

    def element(self, element: Any, at: str, *, allowed: frozenset[str]) -> list[Problem]:
        if not isinstance(element, dict):
            return [Problem(at, "element must be a JSON object")]
        kind = element.get("type")
        if kind not in allowed:
            return [Problem(f"{at}/type", f"element type {kind!r} is not allowed here")]
        if kind == "image":
            return self.image(element, at)
        out = self.id(element.get("action_id"), f"{at}/action_id")
        if "placeholder" in element:
            out += self.text(element["placeholder"], f"{at}/placeholder", 150, plain=True)
        if "confirm" in element:
            out += self.confirm(element["confirm"], f"{at}/confirm")
        if kind == "button":
            out += self.button(element, at)
        elif kind in _SELECTS or kind == "overflow" or kind in _CHOICES:
            out += self.choices(element, at, str(kind))
        elif kind == "plain_text_input":
            out += self.text_input(element, at)
        elif kind == "number_input":
            out += self.number_input(element, at)
        elif kind == "datepicker":
            out += self.pattern(element.get("initial_date"), f"{at}/initial_date", _DATE,
                                "YYYY-MM-DD")
        elif kind == "timepicker":
            out += self.pattern(element.get("initial_time"), f"{at}/initial_time", _TIME, "HH:mm")
        return out

    def button(self, element: dict[str, Any], at: str) -> list[Problem]:
        out = self.text(element.get("text"), f"{at}/text", 75, plain=True)
        out += self.string(element.get("value"), f"{at}/value", 2000)
        out += self.string(element.get("url"), f"{at}/url", 3000)
        style = element.get("style")
        if style is not None and style not in _BUTTON_STYLES:
            out.append(Problem(f"{at}/style", f"style must be primary or danger, not {style!r}"))
        return out

    def confirm(self, obj: Any, at: str) -> list[Problem]:
        if not isinstance(obj, dict):
            return [Problem(at, "confirm must be a JSON object")]
        out = self.text(obj.get("title"), f"{at}/title", 100, plain=True)
        out += self.text(obj.get("text"), f"{at}/text", 300)
        out += self.text(obj.get("confirm"), f"{at}/confirm", 30, plain=True)
        out += self.text(obj.get("deny"), f"{at}/deny", 30, plain=True)
        style = obj.get("style")
        if style is not None and style not in _BUTTON_STYLES:
            out.append(Problem(f"{at}/style", f"style must be primary or danger, not {style!r}"))
        return out

    def choices(self, element: dict[str, Any], at: str, kind: str) -> list[Problem]:
        out: list[Problem] = []
        limit = 5 if kind == "overflow" else 10 if kind in _CHOICES else 100
        plain = kind in _SELECTS or kind == "overflow"
        options, groups = element.get("options"), element.get("option_groups")
        offered: list[Any] = []
        needs_options = kind in ("static_select", "multi_static_select", "overflow", *_CHOICES)
        if needs_options and options is None and groups is None:
            out.append(Problem(f"{at}/options", f"a {kind} needs options"))
        if options is not None:
            out += self.option_list(options, f"{at}/options", limit, plain,
                                    minimum=2 if kind == "overflow" else 1)
            offered += options if isinstance(options, list) else []
        if groups is not None:
            if not isinstance(groups, list) or len(groups) > 100:
                out.append(Problem(f"{at}/option_groups", "option_groups: 1 to 100 groups"))
            else:
                for g, group in enumerate(groups):
                    where = f"{at}/option_groups/{g}"
                    if not isinstance(group, dict):
                        out.append(Problem(where, "an option group must be a JSON object"))
                        continue
                    out += self.text(group.get("label"), f"{where}/label", 75, plain=True)
                    out += self.option_list(group.get("options"), f"{where}/options", 100, plain)
                    group_options = group.get("options")
                    offered += group_options if isinstance(group_options, list) else []
        initial = element.get("initial_option")
        if initial is not None and offered and initial not in offered:
            out.append(Problem(f"{at}/initial_option", "initial_option is not one of the options"))
        return out

    def option_list(self, options: Any, at: str, limit: int, plain: bool,
                    minimum: int = 1) -> list[Problem]:
        if not isinstance(options, list) or len(options) < minimum:
            return [Problem(at, f"needs at least {minimum} options")]
        out: list[Problem] = []
        if len(options) > limit:
            out.append(Problem(at, f"{len(options)} options; limit {limit}"))
        for k, option in enumerate(options):
            where = f"{at}/{k}"
            if not isinstance(option, dict):
                out.append(Problem(where, "an option must be a JSON object"))
                continue
            out += self.text(option.get("text"), f"{where}/text", 75, plain=plain)
            out += self.string(option.get("value"), f"{where}/value", 150, required=True)
            out += self.text(option.get("description"), f"{where}/description", 75,
                             plain=plain, required=False)
            out += self.string(option.get("url"), f"{where}/url", 3000)
        return out

    def text_input(self, element: dict[str, Any], at: str) -> list[Problem]:
        out = self.string(element.get("initial_value"), f"{at}/initial_value", 3000)
        for key in ("min_length", "max_length"):
            value = element.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                out.append(Problem(f"{at}/{key}", f"{key} must be an integer from 0 to 3000"))
        return out

    def number_input(self, element: dict[str, Any], at: str) -> list[Problem]:
        out: list[Problem] = []
        if not isinstance(element.get("is_decimal_allowed"), bool):
            out.append(Problem(f"{at}/is_decimal_allowed", "is_decimal_allowed (bool) is required"))
        for key in ("initial_value", "min_value", "max_value"):
            out += self.pattern(element.get(key), f"{at}/{key}", _NUMBER, "a number as a string")
        return out

    @staticmethod
    def pattern(value: Any, at: str, regex: re.Pattern[str], shape: str) -> list[Problem]:
        if value is None:
            return []
        if not isinstance(value, str) or not regex.match(value):
            return [Problem(at, f"must be {shape}, not {value!r}")]
        return []
