// Block Kit as DOM: the blocks billbot posts in messages and shows in modals.
//
// ctx = {
//   userName(id),                      names for <@U…> mentions
//   onButton(blockId, element, node),  a button in a message was pressed
//   inputs: [],                        modals: filled with {blockId, actionId, read()} readers
//   values: {},                        modals: state.values to show (what was last submitted)
//   errors: {},                        modals: block_id -> error text
// }

import { h } from "./dom.js";
import { emojiNodes, emojify, renderMrkdwn } from "./mrkdwn.js";

export function renderBlocks(blocks, ctx) {
  const root = h("div", { class: "blocks" });
  for (const block of blocks || []) root.append(renderBlock(block, ctx));
  return root;
}

export function renderText(text, ctx) {
  if (!text) return document.createTextNode("");
  if (text.type === "mrkdwn") return h("span", { class: "mrkdwn" }, renderMrkdwn(text.text || "", ctx));
  return h("span", { class: "plain" }, text.emoji === false ? text.text : emojiNodes(text.text || ""));
}

function renderBlock(block, ctx) {
  const attrs = { class: `block block-${block.type}`, dataset: { blockId: block.block_id || "" } };
  switch (block.type) {
    case "header":
      return h("div", attrs, h("h3", {}, renderText(block.text, ctx)));
    case "divider":
      return h("div", attrs, h("hr"));
    case "section":
      return section(block, attrs, ctx);
    case "context":
      return h("div", attrs, (block.elements || []).map((e) =>
        e.type === "image" ? h("span", { class: "img-alt", title: e.alt_text }, "🖼") : renderText(e, ctx)));
    case "actions":
      return h("div", attrs, (block.elements || []).map((e) => element(block, e, ctx)));
    case "input":
      return input(block, attrs, ctx);
    case "image":
      return h("div", attrs, h("span", { class: "img-alt" }, "🖼 " + (block.alt_text || "image")));
    default:
      return h("div", attrs, h("span", { class: "unsupported" }, `[${block.type} block]`));
  }
}

function section(block, attrs, ctx) {
  const body = h("div", { class: "section-body" });
  if (block.text) body.append(h("div", { class: "section-text" }, renderText(block.text, ctx)));
  if (block.fields && block.fields.length) {
    body.append(h("div", { class: "section-fields" },
      block.fields.map((f) => h("div", { class: "field" }, renderText(f, ctx)))));
  }
  const node = h("div", attrs, body);
  if (block.accessory) node.append(h("div", { class: "accessory" }, element(block, block.accessory, ctx)));
  return node;
}

// An interactive element outside an input block (messages, or a modal's section accessory).
function element(block, el, ctx) {
  if (el.type === "button") {
    const style = el.style ? ` bk-${el.style}` : "";
    const node = h("button", {
      class: "bk-button" + style, type: "button",
      dataset: { actionId: el.action_id || "", blockId: block.block_id || "" },
    }, renderText(el.text, ctx));
    node.addEventListener("click", () => ctx.onButton && ctx.onButton(block.block_id, el, node));
    return node;
  }
  if (el.type === "image") return h("span", { class: "img-alt", title: el.alt_text }, "🖼");
  if (ctx.inputs && isStateful(el)) return control(block, el, ctx);
  // Selects, pickers and overflows in messages: shown, not wired (billbot uses buttons there).
  const label = el.placeholder ? el.placeholder.text : el.type;
  return h("span", { class: "bk-inert", title: el.type }, label);
}

function isStateful(el) {
  return ["static_select", "radio_buttons", "checkboxes", "plain_text_input", "number_input",
    "datepicker", "timepicker"].includes(el.type);
}

function input(block, attrs, ctx) {
  const el = block.element || {};
  const error = (ctx.errors || {})[block.block_id];
  const node = h("div", { ...attrs, class: attrs.class + (error ? " has-error" : "") },
    h("label", { class: "input-label" }, renderText(block.label, ctx),
      block.optional ? h("span", { class: "optional" }, " (optional)") : null),
    control(block, el, ctx));
  if (block.hint) node.append(h("div", { class: "input-hint" }, renderText(block.hint, ctx)));
  node.append(h("div", { class: "input-error", role: "alert", dataset: { errorFor: block.block_id } },
    error || ""));
  return node;
}

// A modal control, starting from what was last submitted, else the element's initial value.
function control(block, el, ctx) {
  const shown = ((ctx.values || {})[block.block_id] || {})[el.action_id];
  const field = { dataset: { blockId: block.block_id, actionId: el.action_id } };
  const reader = (read) => ctx.inputs.push({ blockId: block.block_id, actionId: el.action_id, read });
  switch (el.type) {
    case "static_select": {
      const chosen = shown ? shown.selected_option : el.initial_option;
      const select = h("select", { ...field, class: "bk-select" },
        h("option", { value: "" }, el.placeholder ? el.placeholder.text : "Choose…"));
      const addOptions = (parent, options) => options.forEach((o) => parent.append(
        h("option", { value: o.value, selected: !!chosen && chosen.value === o.value }, emojify(o.text.text))));
      if (el.option_groups) {
        el.option_groups.forEach((g) => {
          const group = h("optgroup", { label: g.label.text });
          addOptions(group, g.options || []);
          select.append(group);
        });
      } else addOptions(select, el.options || []);
      reader(() => ({ type: el.type, selected_option: select.value ? { value: select.value } : null }));
      return select;
    }
    case "radio_buttons":
    case "checkboxes": {
      const radio = el.type === "radio_buttons";
      const chosen = shown ? (radio ? [shown.selected_option] : shown.selected_options)
        : (radio ? [el.initial_option] : el.initial_options);
      const picked = new Set((chosen || []).filter(Boolean).map((o) => o.value));
      const name = `${block.block_id}/${el.action_id}`;
      const boxes = (el.options || []).map((o) => h("label", { class: "choice" },
        h("input", { type: radio ? "radio" : "checkbox", name, value: o.value, checked: picked.has(o.value) }),
        " ", renderText(o.text, ctx),
        o.description ? h("div", { class: "choice-description" }, renderText(o.description, ctx)) : null));
      const group = h("div", { ...field, class: "bk-choices", role: radio ? "radiogroup" : "group" }, boxes);
      reader(() => {
        const on = [...group.querySelectorAll("input")].filter((i) => i.checked).map((i) => ({ value: i.value }));
        return radio ? { type: el.type, selected_option: on[0] || null } : { type: el.type, selected_options: on };
      });
      return group;
    }
    case "plain_text_input":
    case "number_input": {
      const initial = shown ? shown.value : el.initial_value;
      const attrs = {
        ...field, class: "bk-text", value: initial || "",
        placeholder: el.placeholder ? el.placeholder.text : null,
      };
      const box = el.multiline ? h("textarea", { ...attrs, rows: 3 })
        : h("input", { ...attrs, type: "text", inputmode: el.type === "number_input" ? "decimal" : null });
      reader(() => ({ type: el.type, value: box.value === "" ? null : box.value }));
      return box;
    }
    case "datepicker": {
      const initial = shown ? shown.selected_date : el.initial_date;
      const box = h("input", { ...field, class: "bk-text", type: "date", value: initial || "" });
      reader(() => ({ type: el.type, selected_date: box.value || null }));
      return box;
    }
    case "timepicker": {
      const initial = shown ? shown.selected_time : el.initial_time;
      const box = h("input", { ...field, class: "bk-text", type: "time", value: initial || "" });
      reader(() => ({ type: el.type, selected_time: box.value || null }));
      return box;
    }
    default:
      return h("span", { class: "unsupported" }, `[${el.type}]`);
  }
}
