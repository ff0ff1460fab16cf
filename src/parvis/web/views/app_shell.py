"""The progressive web app: its manifest and its service worker, served from the root so that
the worker's scope is the whole site.

The worker caches the **app shell only**: the versioned stylesheet, scripts and icons under
`/assets/`. Pages and API answers (personal data) never go through its cache; a new release
(another `version` in the asset URLs) gets a new cache and the old one is deleted."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis import __version__
from parvis.web.pages import runtime

SHELL = (
    f"/assets/parvis.css?v={__version__}",
    f"/assets/vendor/htmx.min.js?v={__version__}",
    f"/assets/parvis.js?v={__version__}",
    f"/assets/live.js?v={__version__}",
    "/assets/icon.svg",
    "/assets/icon-192.png",
    "/assets/icon-512.png",
)

WORKER = """// Parvis service worker: caches the app shell (styles, scripts, icons), nothing else.
"use strict";
const CACHE = "parvis-shell-%(version)s";
const SHELL = %(shell)s;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => keys.filter((k) => k.startsWith("parvis-shell-") && k !== CACHE))
      .then((old) => Promise.all(old.map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

// Only GETs of this server's /assets/ go through the cache; pages, the API and media do not.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const mine = url.origin === self.location.origin && url.pathname.startsWith("/assets/");
  if (event.request.method !== "GET" || !mine) {
    return;
  }
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(event.request).then((hit) => hit || fetch(event.request).then((response) => {
        if (response.ok && SHELL.includes(url.pathname + url.search)) {
          cache.put(event.request, response.clone());
        }
        return response;
      }))
    )
  );
});
"""


async def manifest(request: Request) -> Response:
    settings = runtime(request).settings
    body = {
        "name": settings.title,
        "short_name": settings.title[:12],
        "description": f"{settings.title} ({settings.domain})",
        "id": "/",
        "start_url": "/home",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5fbf",
        "icons": [
            {"src": "/assets/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/assets/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": "/assets/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": "/assets/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(
        orjson.dumps(body),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


async def service_worker(request: Request) -> Response:
    script = WORKER % {"version": __version__, "shell": orjson.dumps(list(SHELL)).decode()}
    return Response(
        script,
        media_type="text/javascript",
        # Browsers check for a new worker at most daily anyway; never let a proxy keep it.
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route("/manifest.webmanifest", manifest, methods=["GET"]),
    Route("/sw.js", service_worker, methods=["GET"]),
]
