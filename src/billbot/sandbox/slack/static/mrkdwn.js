// Slack's mrkdwn as DOM nodes: *bold*, _italic_, ~strike~, `code`, ```blocks```,
// <url|label> links, <@U…> mentions shown as names, <#C…|name>, <!here>, :emoji:, and the
// three escapes Slack uses (&amp; &lt; &gt;). A literal "<" always arrives as "&lt;", so a
// raw "<" starts one of Slack's special tokens.

import { h } from "./dom.js";

// Emoji as glyphs every font has (DejaVu, Liberation...), coloured by style.css: machines
// without a colour-emoji font (servers, CI) still show them.
const EMOJI = {
  moneybag: "$", hourglass_flowing_sand: "⧗", hourglass: "⧗", warning: "⚠", x: "✗",
  white_check_mark: "✓", heavy_check_mark: "✓", ballot_box_with_check: "☑", grey_question: "?",
  question: "?", red_circle: "●", large_orange_circle: "●", white_circle: "○",
  large_green_circle: "●", sparkles: "✦", paperclip: "⌀", no_entry: "⊘", lock: "⊠",
  bell: "♪", memo: "✎", information_source: "i", tada: "★", star: "★", eyes: "◉",
  alarm_clock: "◷", arrow_forward: "▶", arrow_right: "→", chart_with_upwards_trend: "↗",
  house: "⌂", leftwards_arrow_with_hook: "↩", mag: "⌕", new: "✱", page_facing_up: "▤",
  raised_hand: "✋", robot_face: "⚙", rotating_light: "◈", scroll: "§", white_large_square: "□",
  receipt: "▭",
};

const INLINE = new RegExp([
  "(<[^<>\\n]+>)",                                   // 1 special token
  "(`[^`\\n]+`)",                                    // 2 code
  "(?<![\\w*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\w*])", // 3 bold
  "(?<![\\w_])_(?=\\S)([^_\\n]*?\\S)_(?![\\w_])",     // 4 italic
  "(?<![\\w~])~(?=\\S)([^~\\n]*?\\S)~(?![\\w~])",     // 5 strike
  "(:[a-z0-9_+\\-]+:)",                              // 6 emoji
].join("|"), "g");

export function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Plain text with :shortcodes: as glyphs (for places that take text only, like <option>).
export function emojify(text) {
  return String(text).replace(/:([a-z0-9_+\-]+):/g, (whole, name) => EMOJI[name] || whole);
}

// Text with :shortcodes: as styled glyph nodes.
export function emojiNodes(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  const codes = /:([a-z0-9_+\-]+):/g;
  for (let m = codes.exec(text); m; m = codes.exec(text)) {
    if (!EMOJI[m[1]]) continue;
    out.append(text.slice(last, m.index), emojiNode(m[1]));
    last = codes.lastIndex;
  }
  out.append(text.slice(last));
  return out;
}

function emojiNode(name) {
  return h("span", { class: "emoji", title: `:${name}:`, dataset: { name } }, EMOJI[name]);
}

// ctx.userName(id) -> display name
export function renderMrkdwn(text, ctx) {
  const out = document.createDocumentFragment();
  const parts = String(text).split("```");
  parts.forEach((part, index) => {
    if (index % 2 === 1 && index < parts.length - 1) {
      out.append(h("pre", { class: "mrkdwn-pre" }, decodeEntities(part.replace(/^\n/, ""))));
    } else {
      const joined = index % 2 === 1 ? "```" + part : part;
      out.append(renderInline(joined, ctx));
    }
  });
  return out;
}

function renderInline(text, ctx) {
  const out = document.createDocumentFragment();
  let last = 0;
  const tokens = new RegExp(INLINE.source, "g");  // its own lastIndex: this recurses
  for (let m = tokens.exec(text); m; m = tokens.exec(text)) {
    if (m.index > last) out.append(decodeEntities(text.slice(last, m.index)));
    last = tokens.lastIndex;
    if (m[1]) out.append(specialToken(m[1].slice(1, -1), ctx));
    else if (m[2]) out.append(h("code", {}, decodeEntities(m[2].slice(1, -1))));
    else if (m[3]) out.append(h("b", {}, renderInline(m[3], ctx)));
    else if (m[4]) out.append(h("i", {}, renderInline(m[4], ctx)));
    else if (m[5]) out.append(h("s", {}, renderInline(m[5], ctx)));
    else if (m[6]) out.append(emojiNodes(m[6]));
  }
  if (last < text.length) out.append(decodeEntities(text.slice(last)));
  return out;
}

function specialToken(body, ctx) {
  const [target, label] = splitOnce(body, "|");
  if (target.startsWith("@U") || target.startsWith("@W")) {
    const id = target.slice(1);
    return h("span", { class: "mention", dataset: { userId: id } }, "@" + ctx.userName(id));
  }
  if (target.startsWith("#C")) {
    return h("span", { class: "mention" }, "#" + decodeEntities(label || target.slice(1)));
  }
  if (target.startsWith("!")) {
    const name = target.slice(1).split("^")[0];
    if (["here", "channel", "everyone"].includes(name)) return h("span", { class: "mention" }, "@" + name);
    return decodeEntities(label || name);
  }
  const url = decodeEntities(target);
  if (/^(https?:|mailto:)/i.test(url)) {
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
      decodeEntities(label || target));
  }
  return decodeEntities(label || target);
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, null] : [text.slice(0, at), text.slice(at + 1)];
}
