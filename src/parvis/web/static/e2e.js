// Parvis end-to-end encrypted messages: the protocol (docs/messaging.md, version 1) in the
// browser, on libsodium-wrappers (static/vendor/, loaded before this module: `window.sodium`).
// The same texts, bytes and checks as the reference Python client, tests/clients/e2e_client.py.
//
// Keys live in this browser's IndexedDB ("parvis-e2e"), per account: the raw secret keys
// (libsodium keys cannot be non-extractable WebCrypto keys), the identity keys seen for each
// contact (trust on first use) and the nonces already seen. Signing out keeps them;
// forget() deletes them.
"use strict";

const E2E = "/api/parvis/v1/e2e";
const PAD_BLOCK = 256;
const MAX_PADDED = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

let sodium = null;

export async function ready() {
  if (sodium) return sodium;
  if (!window.sodium) throw new Error("libsodium did not load");
  await window.sodium.ready;
  sodium = window.sodium;
  return sodium;
}

// -- encodings ---------------------------------------------------------------------------------

export function b64(bytes) {
  return sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
}

export function unb64(text) {
  if (typeof text !== "string" || !text) throw new Error("not base64");
  return sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
}

function lines(...parts) {
  return encoder.encode(parts.join("\n"));
}

// Ids are decimal strings: as numbers, shorter first, then alphabetical.
export function byId(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

// -- the signed texts --------------------------------------------------------------------------

export function recordText(uri, identity, agreement, createdAt) {
  return lines(
    "parvis-e2e-device-v1",
    `account ${uri}`,
    `identity ${b64(identity)}`,
    `agreement ${b64(agreement)}`,
    `created ${createdAt}`,
  );
}

export function envelopeText(conversationId, senderDeviceId, nonce, ciphertext, keys) {
  const ordered = [...keys].sort((x, y) => byId(x[0], y[0]));
  return lines(
    "parvis-e2e-envelope-v1",
    `conversation ${conversationId}`,
    `sender ${senderDeviceId}`,
    `nonce ${b64(nonce)}`,
    `ciphertext ${b64(ciphertext)}`,
    ...ordered.map(([id, sealed]) => `key ${id} ${b64(sealed)}`),
  );
}

export function messageAd(conversationId, senderDeviceId) {
  return lines("parvis-e2e-message-v1", `conversation ${conversationId}`, `sender ${senderDeviceId}`);
}

// A device record's identity key (base64), once its signature checks out for this account;
// null when it does not.
export function verifyRecord(uri, device) {
  try {
    const identity = unb64(device.identity_key);
    const text = recordText(uri, identity, unb64(device.agreement_key), Number(device.created_at));
    if (sodium.crypto_sign_verify_detached(unb64(device.signature), text, identity)) {
      return b64(identity); // re-encoded: two spellings of the same key are one key
    }
  } catch (_) {
    // malformed: not verified
  }
  return null;
}

// -- safety numbers ----------------------------------------------------------------------------

export function fingerprint(uri, identityKeys) {
  const sorted = [...identityKeys].sort();
  const digest = sodium.crypto_generichash(64, lines("parvis-e2e-safety-v1", uri, ...sorted), null);
  let out = "";
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + digest[i + j]; // < 2^40: exact in a double
    out += String(n % 100000).padStart(5, "0");
  }
  return out;
}

// 60 digits as 12 groups of 5, the same on both sides.
export function safetyNumber(uriA, keysA, uriB, keysB) {
  const digits = [fingerprint(uriA, keysA), fingerprint(uriB, keysB)].sort().join("");
  const groups = [];
  for (let i = 0; i < 60; i += 5) groups.push(digits.slice(i, i + 5));
  return groups;
}

// -- storage (IndexedDB) -----------------------------------------------------------------------

const DB = "parvis-e2e";
const STORE = "kv";

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

let opened = null;
function database() {
  if (!opened) {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    opened = request(r);
  }
  return opened;
}

async function tx(mode, work) {
  const db = await database();
  const t = db.transaction(STORE, mode);
  const result = await work(t.objectStore(STORE));
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
  return result;
}

export const store = {
  get: (key) => tx("readonly", (s) => request(s.get(key))),
  put: (key, value) => tx("readwrite", (s) => request(s.put(value, key))),
  remove: (key) => tx("readwrite", (s) => request(s.delete(key))),
  // Every key of one account ("device:1", "pin:1:2", "nonce:1:…"): what forget() deletes.
  removeAccount: (accountId) =>
    tx("readwrite", async (s) => {
      const keys = await request(s.getAllKeys());
      for (const key of keys) {
        const parts = String(key).split(":");
        if (parts[1] === accountId) s.delete(key);
      }
    }),
};

// -- HTTP: the API, with this page's session cookie and CSRF token ------------------------------

export class Refused extends Error {
  constructor(status, body) {
    super(typeof body === "object" && body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function api(csrf) {
  return async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path.startsWith("/") ? path : E2E + "/" + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new Refused(response.status, data);
    return { data, link: response.headers.get("Link") || "" };
  };
}

// The max_id of a Link header's "next" page, or null.
export function nextMaxId(link) {
  const m = /<[^>]*[?&]max_id=(\d+)[^>]*>;\s*rel="next"/.exec(link || "");
  return m ? m[1] : null;
}

// -- this browser's device -------------------------------------------------------------------

function now() {
  return Math.floor(Date.now() / 1000);
}

// Keys made here, on first use, stored, then published; `create` false: only what exists.
// Returns { device, renewed } (device null when none and not created).
export async function device(call, me, { create, label }) {
  const key = `device:${me.id}`;
  const run = async () => {
    let mine = await store.get(key);
    let renewed = false;
    if (mine && mine.deviceId) {
      const { data } = await call("GET", "devices");
      const found = data.find((d) => d.id === mine.deviceId);
      if (!found || found.revoked_at || found.identity_key !== b64(mine.identityPublic)) {
        if (!create) return { device: null, renewed: false, revoked: true };
        await store.remove(key);
        mine = null;
        renewed = true;
      }
    }
    if (mine && !mine.deviceId && now() - mine.createdAt > 23 * 3600) {
      await store.remove(key); // never published, and its record is too old to be now
      mine = null;
    }
    if (!mine) {
      if (!create) return { device: null, renewed: false };
      const identity = sodium.crypto_sign_keypair();
      const agreement = sodium.crypto_box_keypair();
      mine = {
        deviceId: null,
        createdAt: now(),
        identityPublic: identity.publicKey,
        identitySecret: identity.privateKey,
        agreementPublic: agreement.publicKey,
        agreementSecret: agreement.privateKey,
      };
      await store.put(key, mine); // first kept, then published: never a device without keys
    }
    if (!mine.deviceId) {
      const text = recordText(me.uri, mine.identityPublic, mine.agreementPublic, mine.createdAt);
      const { data } = await call("POST", "devices", {
        identity_key: b64(mine.identityPublic),
        agreement_key: b64(mine.agreementPublic),
        created_at: mine.createdAt,
        signature: b64(sodium.crypto_sign_detached(text, mine.identitySecret)),
        label: label || "",
      });
      mine.deviceId = data.id;
      await store.put(key, mine);
    }
    return { device: mine, renewed };
  };
  // Two tabs opened at once must not make two devices.
  if (navigator.locks) return navigator.locks.request(`parvis-e2e-${me.id}`, run);
  return run();
}

// Revoke this browser's device (when it has one) and delete everything kept for the account.
export async function forget(call, me) {
  const mine = await store.get(`device:${me.id}`);
  if (mine && mine.deviceId) {
    try {
      await call("DELETE", `devices/${mine.deviceId}`);
    } catch (e) {
      if (!(e instanceof Refused && e.status === 404)) throw e;
    }
  }
  await store.removeAccount(String(me.id));
}

// -- trust on first use ------------------------------------------------------------------------

// Compare an account's current identity keys with those accepted before. The first time they
// are accepted as they are; afterwards a difference is a change to show until accepted.
// Returns { accepted, current, changed, added, removed }.
export async function checkKeys(me, accountId, keys) {
  const key = `pin:${me.id}:${accountId}`;
  const current = [...new Set(keys)].sort();
  let pin = await store.get(key);
  if (!pin) pin = { accepted: current, ever: [] };
  pin.current = current;
  pin.ever = [...new Set([...(pin.ever || []), ...current])];
  await store.put(key, pin);
  const added = current.filter((k) => !pin.accepted.includes(k));
  const removed = pin.accepted.filter((k) => !current.includes(k));
  return { ...pin, changed: added.length > 0 || removed.length > 0, added, removed };
}

export async function acceptKeys(me, accountId) {
  const key = `pin:${me.id}:${accountId}`;
  const pin = await store.get(key);
  if (pin && pin.current) {
    pin.accepted = pin.current;
    await store.put(key, pin);
  }
}

export async function everSeen(me, accountId) {
  const pin = await store.get(`pin:${me.id}:${accountId}`);
  return new Set(pin ? pin.ever || [] : []);
}

// -- sending -----------------------------------------------------------------------------------

function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// The envelope of one message, sealed to these devices (each {id, agreement_key}) and signed.
export function seal(mine, conversationId, text, devices) {
  const plain = encoder.encode(JSON.stringify({ v: 1, type: "text", text, sent_at: isoSeconds(new Date()) }));
  const padded = sodium.pad(plain, PAD_BLOCK);
  if (padded.length > MAX_PADDED) throw new Error("too long");
  const key = sodium.randombytes_buf(32);
  const nonce = sodium.randombytes_buf(24);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    padded, messageAd(conversationId, mine.deviceId), null, nonce, key,
  );
  const sealed = devices.map((d) => [d.id, sodium.crypto_box_seal(key, unb64(d.agreement_key))]);
  const signature = sodium.crypto_sign_detached(
    envelopeText(conversationId, mine.deviceId, nonce, ciphertext, sealed), mine.identitySecret,
  );
  sodium.memzero(key);
  return {
    sender_device_id: mine.deviceId,
    nonce: b64(nonce),
    ciphertext: b64(ciphertext),
    keys: sealed.map(([id, k]) => ({ device_id: id, sealed_key: b64(k) })),
    signature: b64(signature),
  };
}

// -- receiving ---------------------------------------------------------------------------------

// One message, verified then decrypted: { status: "ok", text, sentAt } or { status } one of
// "tampered" (a signature that does not verify, or that does not decrypt: never shown),
// "unreadable" (not sealed to this device, nor given to it), "replay" (a nonce seen with
// another message). `identityOf(accountId)` gives the uri for the sender account.
export async function open(me, mine, message, uriOf) {
  const result = await openKey(me, mine, message, uriOf);
  if (result.key) sodium.memzero(result.key);
  delete result.key;
  return result;
}

// The sealed message key for this device: its own in the envelope, or else the one another
// device of the account gave it (`history_key`, History on a new device); null when none.
function sealedKey(mine, keys, message) {
  const own = keys.find(([id]) => id === mine.deviceId);
  if (own) return own[1];
  return message.history_key ? unb64(message.history_key) : null;
}

// What open() finds, with the message key when the message opened (`key`, to be wiped).
async function openKey(me, mine, message, uriOf) {
  const sender = message.sender_device;
  if (!sender || sender.id !== message.sender_device_id) return { status: "tampered" };
  const identity = verifyRecord(await uriOf(message.sender_account_id), sender);
  if (!identity) return { status: "tampered" };
  const conversationId = message.conversation_id;
  let nonce, ciphertext, keys, signature;
  try {
    nonce = unb64(message.nonce);
    ciphertext = unb64(message.ciphertext);
    keys = message.keys.map((k) => [k.device_id, unb64(k.sealed_key)]);
    signature = unb64(message.signature);
  } catch (_) {
    return { status: "tampered" };
  }
  const text = envelopeText(conversationId, sender.id, nonce, ciphertext, keys);
  let good = false;
  try {
    good = sodium.crypto_sign_verify_detached(signature, text, unb64(identity));
  } catch (_) {
    good = false;
  }
  if (!good) return { status: "tampered" };
  let sealed;
  try {
    sealed = sealedKey(mine, keys, message);
  } catch (_) {
    return { status: "tampered" }; // a history_key that is not base64
  }
  if (!sealed) return { status: "unreadable", identity };
  let body, key;
  try {
    key = sodium.crypto_box_seal_open(sealed, mine.agreementPublic, mine.agreementSecret);
    const padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, ciphertext, messageAd(conversationId, sender.id), nonce, key,
    );
    body = JSON.parse(decoder.decode(sodium.unpad(padded, PAD_BLOCK)));
  } catch (_) {
    return { status: "tampered" };
  }
  const seenKey = `nonce:${me.id}:${conversationId}:${message.nonce}`;
  const first = await store.get(seenKey);
  if (first && first !== message.id) return { status: "replay" };
  if (!first) await store.put(seenKey, message.id);
  return { status: "ok", text: String(body.text), sentAt: String(body.sent_at || ""), identity, key };
}

// History on a new device: the message's key re-sealed to another device's agreement key
// (base64), when this device can open the message (signature verified, text decrypted);
// otherwise null. The envelope is untouched: the new device checks the same signature.
export async function reseal(me, mine, message, uriOf, agreementKey) {
  const result = await openKey(me, mine, message, uriOf);
  if (result.status !== "ok") return null;
  const sealed = sodium.crypto_box_seal(result.key, agreementKey);
  sodium.memzero(result.key);
  return b64(sealed);
}
