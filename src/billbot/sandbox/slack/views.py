"""Modals and Home tabs: each user's stack of open modals (at most 3), as Slack keeps them.

The Web API side (views.open/push/update/publish) and the Slack side (what a submission's
answer does to the stack) both live here, under the workspace's lock.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from billbot.sandbox.slack import block_ids, blockkit, element_states
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.ids import IdSource
from billbot.sandbox.slack.model import JsonDict, Trigger, View

MAX_STACK = 3

ConsumeTrigger = Callable[[Any], Trigger]
RecordViolations = Callable[[str, list[blockkit.Problem]], None]


class ViewStore:
    def __init__(self, lock: threading.RLock, ids: IdSource, consume_trigger: ConsumeTrigger,
                 record_violations: RecordViolations) -> None:
        self._lock = lock
        self._ids = ids
        self._consume_trigger = consume_trigger
        self._record_violations = record_violations
        self._stacks: dict[str, list[View]] = {}
        self._homes: dict[str, View] = {}
        self._closed: list[View] = []

    # -- readers -----------------------------------------------------------------------------

    def top(self, user_id: str) -> View | None:
        with self._lock:
            stack = self._stacks.get(user_id)
            return copy.deepcopy(stack[-1]) if stack else None

    def stack(self, user_id: str) -> list[View]:
        """The user's open modals, the root first."""
        with self._lock:
            return copy.deepcopy(self._stacks.get(user_id, []))

    def get(self, view_id: str) -> View | None:
        with self._lock:
            found = self._find(view_id)
            return copy.deepcopy(found) if found else None

    def home(self, user_id: str) -> View | None:
        with self._lock:
            found = self._homes.get(user_id)
            return copy.deepcopy(found) if found else None

    def closed(self) -> list[View]:
        """Modals that were closed, oldest first, with the state they were last submitted with."""
        with self._lock:
            return copy.deepcopy(self._closed)

    def snapshot(self) -> JsonDict:
        with self._lock:
            return {
                "open": {user: [v.to_dict() for v in stack]
                         for user, stack in self._stacks.items() if stack},
                "home": {user: v.to_dict() for user, v in self._homes.items()},
                "closed": [v.to_dict() for v in self._closed],
            }

    # -- Web API -----------------------------------------------------------------------------

    def open(self, *, method: str, trigger_id: Any, definition: Any) -> View:
        with self._lock:
            self._check(method, definition, modal_only=True)
            trigger = self._consume_trigger(trigger_id)
            for old in self._stacks.get(trigger.user_id, []):
                self._close(old, "replaced by views.open")
            view = self._new_view(trigger.user_id, definition, previous=None)
            self._stacks[trigger.user_id] = [view]
            return copy.deepcopy(view)

    def push(self, *, method: str, trigger_id: Any, definition: Any) -> View:
        with self._lock:
            self._check(method, definition, modal_only=True)
            trigger = self._consume_trigger(trigger_id)
            return copy.deepcopy(self._push(trigger.user_id, definition))

    def update(self, *, method: str, view_id: Any, external_id: Any, view_hash: Any,
               definition: Any) -> View:
        with self._lock:
            view = self._find_for_update(view_id, external_id)
            if view_hash and view_hash != view.hash:
                raise SlackApiRefusal("hash_conflict")
            self._check(method, definition, modal_only=False)
            self._replace(view, definition)
            return copy.deepcopy(view)

    def publish(self, *, method: str, user_id: Any, view_hash: Any, definition: Any,
                known_user: Callable[[str], bool]) -> View:
        with self._lock:
            if not isinstance(user_id, str) or not known_user(user_id):
                raise SlackApiRefusal("user_not_found")
            if isinstance(definition, dict) and definition.get("type") != "home":
                raise SlackApiRefusal("invalid_arguments", ["views.publish takes a home view"])
            self._check(method, definition, modal_only=False)
            home = self._homes.get(user_id)
            if home is None:
                home = self._new_view(user_id, definition, previous=None)
                self._homes[user_id] = home
            else:
                if view_hash and view_hash != home.hash:
                    raise SlackApiRefusal("hash_conflict")
                self._replace(home, definition)
            return copy.deepcopy(home)

    # -- what Slack does with the app's answer to a submission ---------------------------------

    def record_state(self, view_id: str, values: JsonDict) -> None:
        with self._lock:
            view = self._require(view_id)
            view.state_values = copy.deepcopy(values)
            view.errors, view.submit_failure = {}, None

    def close(self, view_id: str, reason: str) -> None:
        """Close one modal, as an empty 200 to its submission does."""
        with self._lock:
            view = self._require(view_id)
            self._stacks[view.user_id].remove(view)
            self._close(view, reason)

    def clear(self, user_id: str, reason: str) -> None:
        """Close every modal of the user (`response_action: clear`)."""
        with self._lock:
            for view in reversed(self._stacks.pop(user_id, [])):
                self._close(view, reason)

    def set_errors(self, view_id: str, errors: Any) -> list[blockkit.Problem]:
        """Show `response_action: errors`; keys must name input blocks of the view."""
        with self._lock:
            view = self._require(view_id)
            problems = _error_problems(view, errors)
            if problems:
                self._record_violations("view_submission response", problems)
                view.submit_failure = "invalid response_action errors"
                return problems
            view.errors = {str(k): str(v) for k, v in errors.items()}
            return []

    def answer_update(self, view_id: str, definition: Any) -> list[blockkit.Problem]:
        """`response_action: update` replaces the submitted modal in place."""
        with self._lock:
            view = self._require(view_id)
            problems = self._problems(definition, modal_only=True)
            if problems:
                self._record_violations("view_submission response", problems)
                view.submit_failure = "invalid view in response_action update"
                return problems
            self._replace(view, definition)
            return []

    def answer_push(self, view_id: str, definition: Any) -> list[blockkit.Problem]:
        """`response_action: push` puts a new modal on top of the submitted one."""
        with self._lock:
            view = self._require(view_id)
            problems = self._problems(definition, modal_only=True)
            if problems:
                self._record_violations("view_submission response", problems)
                view.submit_failure = "invalid view in response_action push"
                return problems
            try:
                self._push(view.user_id, definition)
            except SlackApiRefusal as refusal:
                view.submit_failure = refusal.error
                return [blockkit.Problem("/view", refusal.error)]
            return []

    def set_submit_failure(self, view_id: str, failure: str) -> None:
        with self._lock:
            self._require(view_id).submit_failure = failure

    # -- internals ---------------------------------------------------------------------------

    def _problems(self, definition: Any, *, modal_only: bool) -> list[blockkit.Problem]:
        problems = blockkit.check_view(definition)
        if modal_only and isinstance(definition, dict) and definition.get("type") != "modal":
            problems.append(blockkit.Problem("/view/type", "this method opens modals only"))
        return problems

    def _check(self, method: str, definition: Any, *, modal_only: bool) -> None:
        if not isinstance(definition, dict):
            raise SlackApiRefusal("invalid_arguments", ["view must be a JSON object"])
        if block_ids.view_too_large(definition):
            raise SlackApiRefusal("view_too_large")
        problems = self._problems(definition, modal_only=modal_only)
        if problems:
            self._record_violations(method, problems)
            raise SlackApiRefusal("invalid_arguments", [p.slack_message() for p in problems])

    def _normalised(self, definition: JsonDict) -> JsonDict:
        out = copy.deepcopy(definition)
        out["blocks"] = block_ids.with_generated_ids(out.get("blocks", []),
                                                    lambda: self._ids.token(5))
        return out

    def _new_view(self, user_id: str, definition: JsonDict, previous: View | None) -> View:
        view_id = self._ids.object_id("V")
        return View(view_id, user_id, self._normalised(definition), self._ids.view_hash(),
                    root_view_id=previous.root_view_id if previous else view_id,
                    previous_view_id=previous.id if previous else None)

    def _push(self, user_id: str, definition: JsonDict) -> View:
        stack = self._stacks.get(user_id)
        if not stack:
            raise SlackApiRefusal("not_found", ["no open modal to push onto"])
        if len(stack) >= MAX_STACK:
            raise SlackApiRefusal("push_limit_reached")
        view = self._new_view(user_id, definition, previous=stack[-1])
        stack.append(view)
        return view

    def _replace(self, view: View, definition: JsonDict) -> None:
        view.definition = self._normalised(definition)
        # Slack keeps what was typed across an update only in inputs whose block_id and
        # action_id are unchanged; the rest start again from their initial values.
        kept = element_states.element_keys(view.blocks)
        view.state_values = {
            block: {action: value for action, value in actions.items() if (block, action) in kept}
            for block, actions in view.state_values.items()
            if any(key[0] == block for key in kept)}
        view.hash = self._ids.view_hash()
        view.errors, view.submit_failure = {}, None

    def _close(self, view: View, reason: str) -> None:
        view.closed_by = reason
        self._closed.append(view)

    def _find(self, view_id: str) -> View | None:
        for stack in self._stacks.values():
            for view in stack:
                if view.id == view_id:
                    return view
        for home in self._homes.values():
            if home.id == view_id:
                return home
        return None

    def _require(self, view_id: str) -> View:
        view = self._find(view_id)
        if view is None:
            raise LookupError(f"no open view {view_id}")
        return view

    def _find_for_update(self, view_id: Any, external_id: Any) -> View:
        if not view_id and not external_id:
            raise SlackApiRefusal("invalid_arguments", ["view_id or external_id is required"])
        if view_id:
            found = self._find(str(view_id))
        else:
            found = next((v for stack in self._stacks.values() for v in stack
                          if v.definition.get("external_id") == external_id), None)
        if found is None:
            raise SlackApiRefusal("not_found")
        return found


def _error_problems(view: View, errors: Any) -> list[blockkit.Problem]:
    if not isinstance(errors, dict) or not errors:
        return [blockkit.Problem("/errors", "errors must be a non-empty object")]
    inputs = block_ids.input_block_ids(view.definition)
    return [blockkit.Problem(f"/errors/{key}", f"{key!r} is not an input block of the view")
            for key in errors if key not in inputs]
