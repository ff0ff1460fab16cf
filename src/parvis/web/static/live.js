// Parvis web app: live updates (server-sent events) and the service worker. Progressive
// enhancement only: without this file the "Load newer posts" link does the same, by hand.
"use strict";

(() => {
  const me = document.querySelector("script[data-live]");

  // The service worker caches the app shell (styles, scripts, icons); never pages or the API.
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    });
  }

  if (!me || !window.EventSource) return; // not signed in, or no event streams here

  // Which stream this page follows, and which events make it stale.
  const STREAMS = {
    "/home": { url: "/api/v1/streaming/user", events: ["update"], insert: true, words: "post" },
    "/notifications": {
      url: "/api/v1/streaming/user/notification",
      events: ["notification"],
      insert: false, // notifications come in groups: the page is simply loaded again
      words: "note",
    },
  };
  const page = STREAMS[window.location.pathname.replace(/\/$/, "")];
  if (!page) return;
  // Only the first page (the newest posts) is live; an older page stays as it is.
  if (new URLSearchParams(window.location.search).has("max_id")) return;

  let count = 0;
  let button = null;
  let source = null;

  function label(n) {
    const data = me.dataset;
    const template = page.words === "note"
      ? (n === 1 ? data.noteOne : data.noteMany)
      : (n === 1 ? data.one : data.many);
    return (template || "{n}").replace("{n}", String(n));
  }

  function ensureButton() {
    if (button) return button;
    const box = document.createElement("p");
    box.className = "live";
    box.setAttribute("aria-live", "polite");
    button = document.createElement("button");
    button.type = "button";
    button.className = "live-show";
    button.hidden = true;
    button.addEventListener("click", show);
    box.appendChild(button);
    const anchor = document.querySelector(".newer") || document.querySelector("main h1");
    if (anchor) anchor.insertAdjacentElement("afterend", box);
    else document.getElementById("main").prepend(box);
    return button;
  }

  function announce() {
    const b = ensureButton();
    b.textContent = label(count);
    b.hidden = false;
  }

  // Fetch the newer posts (the page of the "Load newer posts" link) and put them on top.
  async function show() {
    const feed = document.querySelector(".feed");
    const newer = document.querySelector(".newer a");
    if (!page.insert || !feed || !newer || count > 20) {
      window.location.assign(window.location.pathname);
      return;
    }
    button.disabled = true;
    try {
      const response = await fetch(newer.getAttribute("href"), { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = [...doc.querySelectorAll(".feed > article.status")].filter((a) => !document.getElementById(a.id));
      const added = fresh.map((article) => document.importNode(article, true));
      added.slice().reverse().forEach((article) => feed.prepend(article));
      if (window.htmx) added.forEach((article) => window.htmx.process(article));
      const next = doc.querySelector(".newer a");
      if (next) newer.setAttribute("href", next.getAttribute("href"));
      count = 0;
      button.hidden = true;
      if (added.length) {
        added[0].setAttribute("tabindex", "-1");
        added[0].focus();
      }
    } catch (error) {
      window.location.assign(window.location.pathname);
    } finally {
      button.disabled = false;
    }
  }

  function connect() {
    source = new EventSource(page.url);
    // For tests and styles: the page is live once the stream is open.
    source.addEventListener("open", () => { document.body.dataset.live = "open"; });
    source.addEventListener("error", () => { document.body.dataset.live = "waiting"; });
    page.events.forEach((name) => {
      source.addEventListener(name, () => {
        count += 1;
        announce();
      });
    });
    // On errors the browser reconnects by itself; a 401 (signed out) closes the stream.
  }

  window.addEventListener("pagehide", () => { if (source) source.close(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted) connect(); });
  connect();
})();
