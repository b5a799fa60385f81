"""Switching the demo page to another person, as the browser tests do."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def become(page: Page, user_id: str) -> None:
    """Pick the person and wait until the page is drawn for them: a click on the previous
    person's picture, redrawn under the pointer, would be lost."""
    page.select_option("#person", user_id)
    expect(page.locator(f'body[data-viewer="{user_id}"]')).to_have_count(1)


STALE_CLICK = "no button with"  # the stand-in's answer to a button no longer in the message


def click_until(page: Page, target: Locator, shown: Locator, *, attempts: int = 3) -> None:
    """Click `target` until `shown` is visible. A click landing as billbot redraws the message
    carries the old render's block ids: the stand-in refuses it before billbot sees it (its
    toast says so) and, as a person would, the click is made again on the redrawn button."""
    toast = page.locator("#toast")
    for attempt in range(attempts):
        target.click()
        expect(shown.or_(toast.filter(has_text=STALE_CLICK))).to_be_visible(timeout=30_000)
        if shown.first.is_visible() or attempt == attempts - 1:
            break
        # Hidden and emptied: a hidden toast still holding the text would match the `or_`
        # above beside the answer of the next click (a strict-mode violation).
        page.evaluate("(t => { t.hidden = true; t.textContent = ''; })"
                      "(document.getElementById('toast'))")
    expect(shown).to_be_visible()


__all__ = ["become", "click_until"]
