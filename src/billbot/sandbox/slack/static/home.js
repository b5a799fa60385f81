// The app's Home tab, as Slack shows it beside the app's Messages: the person opens it (the
// stand-in sends app_home_opened) and sees the view the app last published for them.

import { h } from "./dom.js";
import { renderBlocks } from "./blocks.js";

export const HOME = "__home__";

// The Home tab's place in the sidebar, under "Apps".
export function homeEntry(active, onOpen) {
  return h("li", { class: active ? "active" : "", dataset: { home: "1" }, onclick: onOpen },
    "🏠 billbot · Home");
}

// The published Home view, or a note while none is.
export function drawHome(view, ctx) {
  if (!view) return h("div", { class: "empty" }, "Opening billbot's Home…");
  return h("div", { class: "home-view" }, renderBlocks(view.definition.blocks, ctx));
}
