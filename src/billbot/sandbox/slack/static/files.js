// Attaching a file to a message and Slack's "More actions" menu on a message with files.
//
// The file goes to /_ui/upload (stored, shared and posted through the stand-in's file API,
// as the Slack client uploads it); a menu item goes to /_ui/shortcut, which the stand-in sends
// to the app as a signed message_action. The menu lists the manifest's message shortcuts.

import { h } from "./dom.js";

// A small popup menu under `anchor`; closes on a pick or a click elsewhere.
export function popupMenu(anchor, items, id) {
  document.querySelectorAll(".popup-menu").forEach((m) => m.remove());
  const menu = h("div", { class: "popup-menu", role: "menu", id },
    items.map((item) => h("button", {
      type: "button", role: "menuitem", class: "menu-item", dataset: item.dataset || {},
      onclick: (event) => { event.stopPropagation(); menu.remove(); item.run(); },
    }, item.label)));
  const box = anchor.getBoundingClientRect();
  menu.style.left = `${Math.max(8, box.left)}px`;
  menu.style.top = `${box.bottom + 4}px`;
  document.body.append(menu);
  if (box.bottom + menu.offsetHeight > window.innerHeight) {
    menu.style.top = `${Math.max(8, box.top - menu.offsetHeight - 4)}px`;
  }
  setTimeout(() => document.addEventListener("click", () => menu.remove(), { once: true }));
  return menu;
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// The 📎 button beside the message box: a file from this computer, or a sample invoice.
// `ctx`: { post, where() -> {user, channel} or null, text() -> message text, toast }.
export function wireAttach(button, picker, ctx) {
  const send = async (body) => {
    const where = ctx.where();
    if (!where) { ctx.toast("Open a channel to attach a file."); return; }
    button.disabled = true;
    const answer = await ctx.post("/_ui/upload", { ...where, text: ctx.text(), ...body });
    button.disabled = false;
    if (!answer.ok) ctx.toast(answer.error || `The file was not posted (HTTP ${answer.http}).`);
    else ctx.sent();
  };
  picker.addEventListener("change", async () => {
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (file) await send({ name: file.name, data: await readBase64(file) });
  });
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    popupMenu(button, [
      { label: "📄 Sample invoice (PDF)", dataset: { choice: "sample" }, run: () => send({ sample: true }) },
      { label: "📁 Upload from your computer…", dataset: { choice: "computer" }, run: () => picker.click() },
    ], "attach-menu");
  });
}

// "⋮" on a message that carries files: the app's message shortcuts.
export function moreActions(message, channel, ctx) {
  const shortcuts = ctx.shortcuts || [];
  if (!message.files || !message.files.length || !shortcuts.length) return null;
  const button = h("button", {
    type: "button", class: "more-actions", title: "More actions", "aria-label": "More actions",
  }, "⋮");
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    popupMenu(button, shortcuts.map((s) => ({
      label: `${s.name} · billbot`, dataset: { callbackId: s.callback_id },
      run: async () => {
        const answer = await ctx.post("/_ui/shortcut", {
          user: ctx.me(), channel: channel.id, ts: message.ts, callback_id: s.callback_id,
        });
        if (!answer.ok) ctx.toast(answer.error || `billbot did not handle that (HTTP ${answer.status || answer.http}).`);
      },
    })), "shortcut-menu");
  });
  return button;
}
