// Parvis web app: end-to-end encrypted messages (the pages /messages, /messages/{id},
// Settings → Devices and Settings → Export). The protocol itself is in e2e.js; this file is
// the pages: keys on first visit, the conversation (history, live arrivals, sending), key-change
// banners, safety numbers, "Forget this device", the decrypted export.
//
// Texts come from the page (data-s-* attributes, in its language); a message's text is only
// ever put in the page as text (textContent), never as HTML.
"use strict";

import * as e2e from "./e2e.js";

const root = document.querySelector("[data-e2e]");
const POLL_MS = 3000;

const S = root ? root.dataset : {};
const me = root ? { id: S.accountId, uri: S.accountUri, acct: S.acct } : null;
const call = root ? e2e.api(S.csrf) : null;

function fill(template, values) {
  return (template || "").replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

function status(text) {
  const box = root.querySelector("[data-e2e-status]");
  if (box) box.textContent = text || "";
}

function reason(error) {
  return error && error.message ? error.message : String(error);
}

function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox"
    : /Chrom(e|ium)\//.test(ua) ? "Chromium" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const platform = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || "";
  return `${browser}${platform ? " · " + platform : ""}`.slice(0, 64);
}

async function start() {
  const page = root.dataset.e2e;
  status(root.dataset.sLoading);
  let mine;
  try {
    await e2e.ready();
    // Keys are made on a visit to Messages only; the other pages use those that exist.
    const create = page === "list" || page === "conversation";
    const found = await e2e.device(call, me, { create, label: deviceLabel() });
    mine = found.device;
    status(found.renewed ? S.sNewKeys : "");
  } catch (error) {
    status(fill(S.sKeysFailed, { error: reason(error) }));
    return;
  }
  if (!mine) status(S.sNoDevice);
  for (const el of root.querySelectorAll("[data-e2e-ready]")) el.hidden = !mine;
  if (page === "list") listPage(mine);
  else if (page === "conversation") conversationPage(mine);
  else if (page === "devices") devicesPage(mine);
  else if (page === "export") exportPage(mine);
}

// -- live arrivals: the device's queue, polled while the page is open --------------------------

function poll(mine, handle) {
  let stopped = false;
  async function once() {
    if (stopped) return;
    try {
      if (!document.hidden) {
        const { data } = await call("GET", `devices/${mine.deviceId}/inbox?limit=100`);
        if (data.length) {
          await handle(data);
          await call("POST", `devices/${mine.deviceId}/inbox/ack`, { up_to_id: data[data.length - 1].id });
        }
      }
    } catch (error) {
      if (error instanceof e2e.Refused && (error.status === 401 || error.status === 404)) {
        stopped = true; // signed out, or this device revoked meanwhile
        return;
      }
    }
    window.setTimeout(once, POLL_MS);
  }
  window.setTimeout(once, POLL_MS);
}

async function markUnread(conversationId) {
  await e2e.store.put(`unread:${me.id}:${conversationId}`, true);
}

// -- the list ----------------------------------------------------------------------------------

async function listPage(mine) {
  const items = new Map([...root.querySelectorAll("[data-conversation-id]")].map((li) => [li.dataset.conversationId, li]));
  async function show(conversationId) {
    const li = items.get(conversationId);
    const badge = li && li.querySelector("[data-e2e-new]");
    if (badge) badge.hidden = false;
    else status(S.sNewIn);
  }
  for (const id of items.keys()) {
    if (await e2e.store.get(`unread:${me.id}:${id}`)) show(id);
  }
  poll(mine, async (messages) => {
    for (const m of messages) {
      await markUnread(m.conversation_id);
      await show(m.conversation_id);
    }
  });
}

// -- one conversation --------------------------------------------------------------------------

function conversationPage(mine) {
  const conversationId = root.dataset.conversationId;
  const list = root.querySelector("[data-e2e-messages]");
  const older = root.querySelector("[data-e2e-older]");
  const banners = root.querySelector("[data-e2e-banners]");
  const announce = root.querySelector("[data-e2e-announce]");
  const form = root.querySelector("[data-e2e-compose]");
  const textarea = form.querySelector("textarea");
  const sendError = form.querySelector("[data-e2e-send-error]");
  const people = new Map(
    [...root.querySelectorAll("[data-participant]")].map((li) => [
      li.dataset.participant,
      { name: li.dataset.name, acct: li.dataset.acct, uri: li.dataset.uri },
    ]),
  );
  const shown = new Set();
  const changed = new Map(); // account id -> the keys change, until accepted
  let devices = [];
  let oldest = null;

  async function uriOf(accountId) {
    if (people.has(accountId)) return people.get(accountId).uri;
    const response = await fetch(`/api/v1/accounts/${accountId}`, { credentials: "same-origin" });
    const account = await response.json();
    people.set(accountId, { name: account.display_name || account.username, acct: account.acct, uri: account.uri });
    return account.uri;
  }

  function nameOf(accountId) {
    if (accountId === me.id) return S.sYou;
    const p = people.get(accountId);
    return p ? p.name : "?";
  }

  // Every active device of every participant, each record verified, key changes noted; the
  // banners and safety numbers follow.
  async function refreshDevices() {
    const { data } = await call("GET", `conversations/${conversationId}/devices`);
    const keysOf = new Map();
    const all = [];
    for (const entry of data.participants) {
      const account = entry.account;
      const known = people.get(account.id) || {};
      people.set(account.id, { ...known, name: known.name || account.display_name || account.username, acct: account.acct, uri: account.uri });
      const keys = [];
      for (const d of entry.devices) {
        const identity = e2e.verifyRecord(account.uri, d);
        if (identity) {
          keys.push(identity);
          all.push(d);
        }
      }
      keysOf.set(account.id, keys);
      const pin = await e2e.checkKeys(me, account.id, keys);
      if (pin.changed) changed.set(account.id, pin);
      else changed.delete(account.id);
    }
    devices = all;
    renderBanners();
    renderSafety(keysOf);
    return all;
  }

  function renderBanners() {
    const wanted = new Set(changed.keys());
    for (const el of [...banners.children]) {
      if (!wanted.has(el.dataset.account)) el.remove();
      else wanted.delete(el.dataset.account);
    }
    for (const accountId of wanted) {
      const box = document.createElement("div");
      box.className = "e2e-banner";
      box.setAttribute("role", "alert");
      box.dataset.account = accountId;
      const p = document.createElement("p");
      p.textContent = accountId === me.id ? S.sChangedSelf : fill(S.sChanged, { name: nameOf(accountId) });
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = S.sChecked;
      button.addEventListener("click", async () => {
        await e2e.acceptKeys(me, accountId);
        changed.delete(accountId);
        box.remove();
        textarea.focus();
      });
      box.append(p, button);
      banners.append(box);
    }
  }

  function renderSafety(keysOf) {
    for (const details of root.querySelectorAll("[data-safety-for]")) {
      const other = details.dataset.safetyFor;
      const target = details.querySelector("[data-safety-number]");
      const person = people.get(other);
      if (!person || !keysOf.has(other) || !keysOf.has(me.id)) continue;
      const groups = e2e.safetyNumber(me.uri, keysOf.get(me.id), person.uri, keysOf.get(other));
      target.replaceChildren(...groups.map((g) => {
        const span = document.createElement("span");
        span.textContent = g;
        return span;
      }));
      target.dataset.digits = groups.join(" ");
    }
  }

  function timeOf(message) {
    const when = new Date(message.created_at);
    const span = document.createElement("time");
    span.dateTime = message.created_at;
    span.textContent = when.toLocaleString(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });
    return span;
  }

  function render(message, result) {
    const li = document.createElement("li");
    li.className = "e2e-message";
    li.id = `message-${message.id}`;
    li.dataset.messageId = message.id;
    li.dataset.status = result.status;
    if (message.sender_account_id === me.id) li.classList.add("own");
    const head = document.createElement("p");
    head.className = "e2e-meta";
    const who = document.createElement("strong");
    who.textContent = nameOf(message.sender_account_id);
    head.append(who, " · ", timeOf(message));
    const body = document.createElement("p");
    body.className = result.status === "ok" ? "e2e-text" : "e2e-warning";
    body.textContent = result.status === "ok" ? result.text
      : result.status === "tampered" ? S.sTampered
        : result.status === "replay" ? S.sReplay : S.sUnreadable;
    li.append(head, body);
    const empty = list.querySelector(".e2e-empty");
    if (empty) empty.remove();
    // In id order (ids grow with time), whenever it arrives.
    const after = [...list.querySelectorAll("li[data-message-id]")].find((el) => e2e.byId(el.dataset.messageId, message.id) > 0);
    list.insertBefore(li, after || null);
    return li;
  }

  async function openAndRender(message, live) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    const result = await e2e.open(me, mine, message, uriOf);
    if (result.identity) {
      const seen = await e2e.everSeen(me, message.sender_account_id);
      if (!seen.has(result.identity)) await refreshDevices(); // a device new to us: warn
    }
    render(message, result);
    if (live && result.status === "ok" && message.sender_account_id !== me.id) {
      announce.textContent = fill(S.sNewMessage, { name: nameOf(message.sender_account_id), text: result.text });
    }
  }

  async function loadPage(maxId) {
    const query = `limit=40&device_id=${mine.deviceId}${maxId ? "&max_id=" + maxId : ""}`;
    const { data } = await call("GET", `conversations/${conversationId}/messages?${query}`);
    for (const m of [...data].reverse()) await openAndRender(m, false);
    if (data.length) oldest = data[data.length - 1].id;
    older.hidden = data.length < 40;
    return data.length;
  }

  async function send(text) {
    for (const attempt of [1, 2]) {
      const envelope = e2e.seal(mine, conversationId, text, await refreshDevices());
      try {
        const { data } = await call("POST", `conversations/${conversationId}/messages`, envelope);
        await e2e.store.put(`nonce:${me.id}:${conversationId}:${data.nonce}`, data.id);
        shown.add(data.id);
        render(data, { status: "ok", text });
        return;
      } catch (error) {
        // A device was added or removed meanwhile: fetch them again (and warn), once.
        const retry = attempt === 1 && error instanceof e2e.Refused && error.body && error.body.missing_device_ids;
        if (!retry) throw error;
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    sendError.hidden = true;
    try {
      await send(text);
      textarea.value = "";
    } catch (error) {
      sendError.textContent = fill(S.sSendFailed, { error: reason(error) });
      sendError.hidden = false;
    } finally {
      button.disabled = false;
      textarea.focus();
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  older.addEventListener("click", async () => {
    older.disabled = true;
    try {
      await loadPage(oldest);
    } finally {
      older.disabled = false;
    }
  });

  (async () => {
    try {
      await refreshDevices();
      await e2e.store.remove(`unread:${me.id}:${conversationId}`);
      const count = await loadPage(null);
      if (!count) {
        const li = document.createElement("li");
        li.className = "e2e-empty";
        li.textContent = S.sEmpty;
        list.append(li);
      }
      root.dataset.e2eLoaded = "true";
    } catch (error) {
      status(fill(S.sLoadFailed, { error: reason(error) }));
    }
    poll(mine, async (messages) => {
      for (const m of messages) {
        if (m.conversation_id === conversationId) await openAndRender(m, true);
        else await markUnread(m.conversation_id);
      }
    });
  })();
}

// -- Settings → Devices ------------------------------------------------------------------------

function devicesPage(mine) {
  const forget = root.querySelector("[data-e2e-forget]");
  if (mine) {
    const row = root.querySelector(`[data-device-id="${CSS.escape(mine.deviceId)}"]`);
    const badge = row && row.querySelector("[data-this-device]");
    if (badge) badge.hidden = false;
  }
  if (mine) {
    for (const button of root.querySelectorAll("[data-e2e-give]")) {
      const target = button.closest("[data-device-id]").dataset.deviceId;
      if (target === mine.deviceId) continue;
      button.hidden = false;
      button.addEventListener("click", () => giveHistory(mine, target, button));
    }
  }
  forget.addEventListener("click", async () => {
    if (!window.confirm(S.sForgetConfirm)) return;
    forget.disabled = true;
    try {
      await e2e.forget(call, me);
      window.location.reload();
    } catch (error) {
      status(reason(error));
      forget.disabled = false;
    }
  });
}

// History on a new device, on the user's request: every message this browser can open, its key
// re-sealed to the other device (whose record must verify for this account), posted in batches.
async function giveHistory(mine, target, button) {
  if (!window.confirm(S.sGiveConfirm)) return;
  button.disabled = true;
  status(S.sGiving);
  try {
    const { data } = await call("GET", "devices");
    const device = data.find((d) => d.id === target && !d.revoked_at);
    if (!device || !e2e.verifyRecord(me.uri, device)) throw new Error(S.sGiveUnverified);
    const agreement = e2e.unb64(device.agreement_key);
    const keys = [];
    for (const c of await everyPage("conversations")) {
      const accounts = new Map(c.participants.map((a) => [a.id, a]));
      const uriOf = async (id) => (accounts.get(id) || {}).uri || "";
      for (const m of await everyPage(`conversations/${c.id}/messages?device_id=${mine.deviceId}`)) {
        const sealed = await e2e.reseal(me, mine, m, uriOf, agreement);
        if (sealed) keys.push({ message_id: m.id, sealed_key: sealed });
      }
    }
    let count = 0;
    for (let at = 0; at < keys.length; at += 500) {
      const batch = keys.slice(at, at + 500);
      const { data: done } = await call("POST", `devices/${target}/history`, { from_device_id: mine.deviceId, keys: batch });
      count += done.stored;
    }
    status(fill(S.sGiven, { count }));
  } catch (error) {
    status(fill(S.sGiveFailed, { error: reason(error) }));
  } finally {
    button.disabled = false;
  }
}

// -- Settings → Export: what this device can read, decrypted, as a JSON file ------------------

function exportPage(mine) {
  const button = root.querySelector("[data-e2e-export]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status(S.sExporting);
    try {
      const out = await decryptAll(mine);
      const file = `parvis-messages-${me.acct}-${new Date().toISOString().slice(0, 10)}.json`;
      const blob = new Blob([JSON.stringify(out, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = file;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      const count = out.conversations.reduce((n, c) => n + c.messages.length, 0);
      status(fill(S.sExported, { count, file }));
    } catch (error) {
      status(fill(S.sLoadFailed, { error: reason(error) }));
    } finally {
      button.disabled = false;
    }
  });
}

async function everyPage(path) {
  const found = [];
  let maxId = null;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const { data, link } = await call("GET", `${path}${sep}limit=40${maxId ? "&max_id=" + maxId : ""}`);
    found.push(...data);
    maxId = e2e.nextMaxId(link);
    if (!data.length || !maxId) return found;
  }
}

async function decryptAll(mine) {
  const conversations = await everyPage("conversations");
  const out = {
    format: "parvis-e2e-export-v1",
    exported_at: new Date().toISOString(),
    account: { id: me.id, acct: me.acct, uri: me.uri },
    device_id: mine.deviceId,
    conversations: [],
  };
  for (const c of conversations) {
    const accounts = new Map(c.participants.map((a) => [a.id, a]));
    const uriOf = async (id) => (accounts.get(id) || {}).uri || "";
    const messages = await everyPage(`conversations/${c.id}/messages?device_id=${mine.deviceId}`);
    const entries = [];
    for (const m of messages.reverse()) {
      const result = await e2e.open(me, mine, m, uriOf);
      const sender = accounts.get(m.sender_account_id);
      const entry = {
        id: m.id,
        created_at: m.created_at,
        sender: sender ? sender.acct : m.sender_account_id,
        sender_device_id: m.sender_device_id,
        status: result.status,
      };
      if (result.status === "ok") {
        entry.sent_at = result.sentAt;
        entry.text = result.text;
      }
      entries.push(entry);
    }
    out.conversations.push({
      id: c.id,
      participants: c.participants.map((a) => ({ id: a.id, acct: a.acct, uri: a.uri })),
      messages: entries,
    });
  }
  return out;
}

if (root) start();
