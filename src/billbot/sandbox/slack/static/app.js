// The local Slack page: who you are, the channel and its threads, your ephemerals and
// modals, a command box, and the accounting system's own view of the bills.
//
// It polls /_ui/state (answered with {"unchanged": true} while nothing changed) and sends
// what you do to /_ui/*, where the stand-in signs it exactly as Slack would for the app.

import { clear, h } from "./dom.js";
import { renderBlocks, renderText } from "./blocks.js";
import { emojiNodes, renderMrkdwn } from "./mrkdwn.js";
import { HOME, drawHome, homeEntry } from "./home.js";
import { moreActions, wireAttach } from "./files.js";

const POLL_MS = 400;
const BOOKS_MS = 1500;
const $ = (id) => document.getElementById(id);

const ui = {
  me: null,            // the person you are
  channel: null,       // the channel shown
  thread: null,        // ts of the open thread, if any
  data: null,          // the last /_ui/state answer
  version: null,
  modalKey: null,      // what the shown modal was drawn from
  modalInputs: [],
  books: null,
  allBills: false,
  firstDraw: true,
};

// -- talking to the stand-in ------------------------------------------------------------------

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let answer = {};
  try { answer = await response.json(); } catch { answer = {}; }
  return { http: response.status, ...answer };
}

async function poll() {
  try {
    const query = new URLSearchParams({ user: ui.me, known: ui.version || "" });
    const response = await fetch(`/_ui/state?${query}`);
    if (response.ok) {
      const answer = await response.json();
      if (!answer.unchanged) {
        ui.data = answer;
        ui.version = answer.version;
        draw();
      }
      setOnline(true);
    } else setOnline(false);
  } catch {
    setOnline(false);
  }
  setTimeout(poll, POLL_MS);
}

async function pollBooks() {
  try {
    const response = await fetch("/_ui/books");
    if (response.ok) {
      ui.books = await response.json();
      drawBooks();
    } else if (response.status === 404) {
      $("books-tab").hidden = true;  // no Codat sandbox behind this workspace
      return;
    }
  } catch { /* shown as offline by poll() */ }
  setTimeout(pollBooks, BOOKS_MS);
}

function setOnline(online) {
  $("offline").hidden = online;
}

// -- drawing ----------------------------------------------------------------------------------

function userName(id) {
  const user = ui.data && ui.data.users.find((u) => u.id === id);
  return user ? user.real_name : id;
}

function draw() {
  const data = ui.data;
  document.body.dataset.viewer = data.viewer;
  $("team-name").textContent = data.team.name;
  drawPeople();
  const channels = data.channels;
  if (ui.channel !== HOME && !channels.find((c) => c.id === ui.channel)) ui.channel = channels.length ? channels[0].id : null;
  drawSidebar(channels);
  if (ui.channel === HOME) {
    drawHomeTab();
    drawThread(null);
    drawModal(data.modal);
    return;
  }
  const channel = channels.find((c) => c.id === ui.channel);
  drawChannel(channel);
  drawThread(channel);
  drawModal(data.modal);
}

function drawPeople() {
  const select = $("person");
  const people = ui.data.users.filter((u) => !u.is_bot);
  if (select.options.length !== people.length) {
    clear(select);
    for (const u of people) {
      select.append(h("option", { value: u.id }, u.title ? `${u.real_name} (${u.title.toLowerCase()})` : u.real_name));
    }
  }
  select.value = ui.me;
  const me = people.find((u) => u.id === ui.me);
  $("me-avatar").textContent = initials(me ? me.real_name : "?");
}

function drawSidebar(channels) {
  const list = clear($("channel-list"));
  for (const c of channels) {
    const label = c.is_im ? `💬 ${userName(c.name)}` : `# ${c.name}`;
    list.append(h("li", {
      class: c.id === ui.channel ? "active" : "",
      onclick: () => { ui.channel = c.id; ui.thread = null; draw(); },
    }, label));
  }
  list.append(h("li", { class: "section-title" }, "Apps"));
  list.append(homeEntry(ui.channel === HOME, openHome));
}

// Opening the Home tab is what makes Slack send app_home_opened; the app then publishes.
async function openHome() {
  ui.channel = HOME;
  ui.thread = null;
  draw();
  const answer = await post("/_ui/home", { user: ui.me });
  if (!answer.ok) toast(answer.error || `billbot did not handle that (HTTP ${answer.status || answer.http}).`);
}

function drawHomeTab() {
  const timeline = clear($("timeline"));
  $("channel-title").textContent = "billbot · Home";
  $("composer").placeholder = "Home is read-only: open a channel to type /bills";
  const ctx = {
    userName,
    onButton: (blockId, element, node) => pressButton(null, null, blockId, element, node),
  };
  timeline.append(drawHome(ui.data.home, ctx));
}

function byTs(a, b) {
  return parseFloat(a.ts) - parseFloat(b.ts);
}

function drawChannel(channel) {
  const timeline = $("timeline");
  const wasAtBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
  const before = timeline.scrollTop;
  const lastTs = timeline.dataset.lastTs;
  clear(timeline);
  if (!channel) return;
  $("channel-title").textContent = channel.is_im ? userName(channel.name) : `# ${channel.name}`;
  $("composer").placeholder = `Message ${channel.is_im ? "" : "#"}${channel.name} — try /bills help`;
  const items = [
    ...channel.messages.map((m) => ({ kind: "message", item: m })),
    ...channel.ephemerals.filter((e) => !e.thread_ts).map((e) => ({ kind: "ephemeral", item: e })),
  ].sort((a, b) => byTs(a.item, b.item));
  if (!items.length) timeline.append(h("div", { class: "empty" }, "No messages yet."));
  for (const { kind, item } of items) timeline.append(drawMessage(item, kind, channel, true));
  const newest = items.length ? items[items.length - 1].item.ts : "";
  timeline.dataset.lastTs = newest;
  if (ui.firstDraw || (newest !== lastTs && wasAtBottom)) {
    const node = timeline.lastElementChild;
    if (node) timeline.scrollTop = node.offsetTop - timeline.offsetTop - 8;
    ui.firstDraw = false;
  } else timeline.scrollTop = before;
}

function drawMessage(message, kind, channel, inChannel) {
  const ephemeral = kind === "ephemeral";
  const sender = ephemeral ? message.sender : message.user;
  const isBot = sender === ui.data.bot_user_id;
  const name = sender === "USLACKBOT" ? "Slackbot" : userName(sender);
  const node = h("div", {
    class: "message" + (ephemeral ? " ephemeral" : ""),
    dataset: { ts: message.ts, kind },
  },
  h("div", { class: "avatar" + (isBot ? " bot" : "") }, isBot ? "b" : initials(name)),
  h("div", { class: "message-main" },
    h("div", { class: "message-meta" },
      h("span", { class: "sender" }, name),
      isBot ? h("span", { class: "app-badge" }, "APP") : null,
      h("span", { class: "time" }, clock(message.ts)),
      message.edited_ts ? h("span", { class: "edited" }, "(edited)") : null),
    ephemeral ? null : moreActions(message, channel, { post, toast, me: () => ui.me, shortcuts: ui.data.shortcuts }),
    ephemeral ? h("div", { class: "only-you" }, "Only visible to you") : null,
    body(message, channel),
    inChannel && message.reply_count ? h("button", {
      class: "replies", type: "button", onclick: () => { ui.thread = message.ts; ui.threadOpened = true; draw(); showTab("thread"); },
    }, `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"} · View thread`) : null));
  return node;
}

function body(message, channel) {
  const ctx = {
    userName,
    onButton: (blockId, element, node) => pressButton(channel.id, message.ts, blockId, element, node),
  };
  const content = message.blocks && message.blocks.length ? renderBlocks(message.blocks, ctx)
    : h("div", { class: "blocks" }, h("div", { class: "section-text mrkdwn" }, renderMrkdwn(message.text || "", ctx)));
  if (!message.files || !message.files.length) return content;
  return h("div", {}, content, ...message.files.map(drawFile));
}

// A shared file as Slack's client shows it: an image previewed, anything else (a PDF) a card
// that opens the file.
function drawFile(file) {
  const url = `${file.url}?user=${encodeURIComponent(ui.me)}`;
  const kind = (file.name.split(".").pop() || "file").toUpperCase();
  if (file.mimetype.startsWith("image/")) {
    return h("a", { class: "file file-image", href: url, target: "_blank", dataset: { fileId: file.id } },
      h("img", { src: url, alt: file.title || file.name }),
      h("div", { class: "file-name" }, file.title || file.name));
  }
  return h("a", { class: "file file-card", href: url, target: "_blank", dataset: { fileId: file.id } },
    h("span", { class: "file-kind" }, kind),
    h("span", {}, h("div", { class: "file-name" }, file.title || file.name),
      h("div", { class: "muted" }, `${kind} · ${Math.max(1, Math.round(file.size / 1024))} KB`)));
}

function drawThread(channel) {
  const pane = $("thread");
  const parent = channel && ui.thread ? channel.messages.find((m) => m.ts === ui.thread) : null;
  $("thread-tab").hidden = !parent;
  if (!parent) {
    if (ui.thread) ui.thread = null;
    if ($("thread-tab").classList.contains("active")) showTab("books");
    return;
  }
  const scroll = pane.scrollTop;
  clear(pane);
  pane.append(drawMessage(parent, "message", channel, false));
  const divider = h("div", { class: "thread-divider" },
    `${parent.replies.length} ${parent.replies.length === 1 ? "reply" : "replies"}`);
  pane.append(divider);
  const replies = [
    ...parent.replies.map((m) => ({ kind: "message", item: m })),
    ...channel.ephemerals.filter((e) => e.thread_ts === parent.ts).map((e) => ({ kind: "ephemeral", item: e })),
  ].sort((a, b) => byTs(a.item, b.item));
  for (const { kind, item } of replies) pane.append(drawMessage(item, kind, channel, false));
  if (ui.threadOpened) {
    ui.threadOpened = false;
    requestAnimationFrame(() => { pane.scrollTop = divider.offsetTop - pane.offsetTop - 60; });
  } else pane.scrollTop = scroll;
}

// -- buttons and confirm dialogs --------------------------------------------------------------

async function pressButton(channelId, ts, blockId, element, node) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  node.classList.add("busy");
  node.disabled = true;
  const answer = await post("/_ui/click", channelId === null
    ? { user: ui.me, home: true, block_id: blockId, action_id: element.action_id }
    : { user: ui.me, channel: channelId, ts, block_id: blockId, action_id: element.action_id });
  node.classList.remove("busy");
  node.disabled = false;
  if (!answer.ok) toast(answer.error || `billbot did not handle that (HTTP ${answer.status || answer.http}).`);
}

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const ctx = { userName };
    const done = (answer) => { overlay.remove(); resolve(answer); };
    const overlay = h("div", { class: "overlay", id: "confirm" },
      h("div", { class: "dialog confirm-dialog", role: "dialog", "aria-modal": "true" },
        h("div", { class: "dialog-title" }, renderText(confirm.title, ctx)),
        h("div", { class: "dialog-body" }, renderText(confirm.text, ctx)),
        h("div", { class: "dialog-footer" },
          h("button", { class: "bk-button", type: "button", onclick: () => done(false) },
            confirm.deny ? confirm.deny.text : "Cancel"),
          h("button", { class: "bk-button " + (confirm.style === "danger" ? "bk-danger" : "bk-primary"),
            type: "button", onclick: () => done(true) }, confirm.confirm ? confirm.confirm.text : "Yes"))));
    document.body.append(overlay);
  });
}

// -- modals -----------------------------------------------------------------------------------

function drawModal(view) {
  const host = $("modal-host");
  if (!view) {
    clear(host);
    ui.modalKey = null;
    return;
  }
  const key = JSON.stringify([view.id, view.hash, view.errors, view.submit_failure]);
  if (key === ui.modalKey) return;  // leave what the person is typing alone
  ui.modalKey = key;
  const def = view.definition;
  const inputs = [];
  const ctx = {
    userName, inputs, values: view.state_values || {}, errors: view.errors || {},
    onButton: (blockId, element, node) => pressViewButton(view, blockId, element, node),
  };
  const footer = h("div", { class: "dialog-footer" },
    h("button", { class: "bk-button", type: "button", id: "modal-close", onclick: closeModal },
      def.close ? def.close.text : (def.submit ? "Cancel" : "Close")),
    def.submit ? h("button", { class: "bk-button bk-primary", type: "submit", id: "modal-submit" },
      def.submit.text) : null);
  const form = h("form", {
    class: "dialog modal", role: "dialog", "aria-modal": "true",
    dataset: { viewId: view.id, callbackId: def.callback_id || "" },
    onsubmit: (event) => { event.preventDefault(); submitModal(view, inputs, form); },
  },
  h("div", { class: "dialog-title" },
    h("span", {}, emojiNodes(def.title ? def.title.text : "")),
    h("button", { class: "x", type: "button", "aria-label": "Close", onclick: closeModal }, "×")),
  h("div", { class: "dialog-body" },
    view.submit_failure ? h("div", { class: "submit-failure", role: "alert" },
      "⚠️ We had some trouble connecting. Try again?") : null,
    renderBlocks(def.blocks, ctx)),
  footer);
  clear(host).append(h("div", { class: "overlay" }, form));
}

async function pressViewButton(view, blockId, element, node) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  node.classList.add("busy");
  node.disabled = true;
  const answer = await post("/_ui/click_view", {
    user: ui.me, view_id: view.id, block_id: blockId, action_id: element.action_id,
  });
  node.classList.remove("busy");
  node.disabled = false;
  if (!answer.ok) toast(answer.error || `billbot did not handle that (HTTP ${answer.status || answer.http}).`);
}

async function submitModal(view, inputs, form) {
  const values = {};
  for (const input of inputs) {
    (values[input.blockId] = values[input.blockId] || {})[input.actionId] = input.read();
  }
  const button = form.querySelector("#modal-submit");
  button.disabled = true;
  button.classList.add("busy");
  form.querySelectorAll(".input-error").forEach((e) => { e.textContent = ""; });
  form.querySelectorAll(".has-error").forEach((e) => e.classList.remove("has-error"));
  const answer = await post("/_ui/submit", { user: ui.me, view_id: view.id, values });
  button.disabled = false;
  button.classList.remove("busy");
  if (answer.client_errors) {
    // Slack's own client refuses to send these; it marks the inputs instead.
    for (const [blockId, text] of Object.entries(answer.client_errors)) {
      const slot = form.querySelector(`.input-error[data-error-for="${CSS.escape(blockId)}"]`);
      if (slot) {
        slot.textContent = text;
        slot.parentElement.classList.add("has-error");
      }
    }
  } else if (!answer.ok && answer.error) toast(answer.error);
}

async function closeModal() {
  await post("/_ui/close", { user: ui.me });
}

// -- the command box --------------------------------------------------------------------------

async function sendCommand(event) {
  event.preventDefault();
  const box = $("composer");
  const text = box.value.trim();
  if (!text) return;
  if (ui.channel === HOME) {
    toast("Open a channel to type a command; Home only shows what billbot published.");
    return;
  }
  if (!text.startsWith("/")) {
    toast("Only slash commands reach billbot here: try /bills help");
    return;
  }
  box.disabled = true;
  const answer = await post("/_ui/command", { user: ui.me, channel: ui.channel, text });
  box.disabled = false;
  box.focus();
  if (answer.ok) box.value = "";
  else toast(answer.error || `/bills failed (HTTP ${answer.status || answer.http}).`);
}

// -- the books (the Codat sandbox's view) -----------------------------------------------------

// One bill payment may settle several bills (a batch, one per supplier): it is counted once.
function booksSummary(payments) {
  const count = new Set(payments.map((p) => p.paymentId || `${p.billId}:${p.date}:${p.amount}`)).size;
  const bills = new Set(payments.map((p) => p.billId)).size;
  const more = count && bills !== count ? ` (${bills} bills)` : "";
  return h("div", { class: "books-summary", id: "books-summary", dataset: { payments: count } },
    `${count} payment${count === 1 ? "" : "s"} recorded this run${more}`);
}

function drawBooks() {
  const books = ui.books;
  const pane = $("books");
  if (!books) return;
  const paid = new Map();
  for (const p of books.payments) {
    if (!paid.has(p.billId)) paid.set(p.billId, []);
    paid.get(p.billId).push(p);
  }
  const shown = books.bills
    .filter((b) => ui.allBills || paid.has(b.id) || ["Open", "PartiallyPaid"].includes(b.status))
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
  const scroll = pane.scrollTop;
  clear(pane);
  pane.append(h("div", { class: "books-head" },
    h("div", {}, h("b", {}, "Accounting system"), " (Codat sandbox): what the books hold now."),
    booksSummary(books.payments),
    h("label", { class: "choice" }, h("input", {
      type: "checkbox", checked: ui.allBills, onchange: (e) => { ui.allBills = e.target.checked; drawBooks(); },
    }), ` Show paid, void and draft bills too (${books.bills.length} in all)`)));
  const rows = shown.map((b) => {
    const payments = paid.get(b.id) || [];
    return h("tr", { dataset: { billId: b.id, reference: b.reference || "" }, class: payments.length ? "has-payment" : "" },
      h("td", {}, h("div", { class: "ref" }, b.reference || b.id), h("div", { class: "muted" }, b.supplier || "")),
      h("td", { class: "num" }, money(b.amountDue, b.currency)),
      h("td", {}, h("span", { class: `status status-${b.status}` }, b.status), h("div", { class: "muted nowrap" }, `due ${b.dueDate}`)),
      h("td", { class: "payments" }, payments.length
        ? payments.map((p) => h("div", { class: "payment" }, `${money(p.amount, p.currency)} on ${p.date}`))
        : h("span", { class: "muted" }, "—")));
  });
  pane.append(h("table", { class: "books-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Bill"), h("th", { class: "num" }, "Amount due"),
      h("th", {}, "Status"), h("th", {}, "Payments"))),
    h("tbody", {}, rows)));
  pane.scrollTop = scroll;
}

function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  const value = Number(amount);
  try {
    return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}

// -- small things -----------------------------------------------------------------------------

function initials(name) {
  return String(name).split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

function clock(ts) {
  const when = new Date(parseFloat(ts) * 1000);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

let toastTimer = null;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 5000);
}

function showTab(name) {
  for (const tab of ["books", "thread"]) {
    $(`${tab}-tab`).classList.toggle("active", tab === name);
    $(tab).hidden = tab !== name;
  }
}

function choosePerson(id) {
  ui.me = id;
  ui.version = null;
  ui.modalKey = null;
  localStorage.setItem("billbot-demo-person", id);
  const url = new URL(location.href);
  url.searchParams.set("as", id);
  history.replaceState(null, "", url);
}

function start() {
  const wanted = new URLSearchParams(location.search).get("as");
  choosePerson(wanted || localStorage.getItem("billbot-demo-person") || "U0ANN");
  $("person").addEventListener("change", (e) => {
    choosePerson(e.target.value);
    ui.data = null;
    if (ui.channel === HOME) openHome();
    fetch(`/_ui/state?user=${encodeURIComponent(ui.me)}`).then((r) => r.json()).then((answer) => {
      ui.data = answer;
      ui.version = answer.version;
      draw();
    });
  });
  $("composer-form").addEventListener("submit", sendCommand);
  wireAttach($("attach"), $("attach-file"), {
    post, toast,
    where: () => (ui.channel && ui.channel !== HOME ? { user: ui.me, channel: ui.channel } : null),
    // What is typed (not a command) goes with the file, as Slack's composer sends it.
    text: () => ($("composer").value.trim().startsWith("/") ? "" : $("composer").value.trim()),
    sent: () => { if (!$("composer").value.trim().startsWith("/")) $("composer").value = ""; },
  });
  $("books-tab").addEventListener("click", () => showTab("books"));
  $("thread-tab").addEventListener("click", () => showTab("thread"));
  showTab("books");
  // Reloading or leaving Slack closes the modals it showed: sent as the page goes away.
  window.addEventListener("pagehide", () => {
    if (ui.modalKey === null) return;
    const body = new Blob([JSON.stringify({ user: ui.me, every: true })], { type: "application/json" });
    navigator.sendBeacon("/_ui/close", body);
  });
  poll();
  pollBooks();
}

start();
