/* Kiosk service worker: serves the app shell from its cache (offline in well under a second) and
   refreshes it in the background. API calls are never cached: the page queues answers itself. */
"use strict";
const CACHE = "kiosk-shell-{{ version }}";
const SHELL = {{ shell_url|tojson }};
const PRECACHE = {{ ([shell_url, manifest_url] + assets)|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("kiosk-shell-") && key !== CACHE)
          .map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

function fromCacheThenRefresh(event, key) {
  return caches.open(CACHE).then((cache) => cache.match(key).then((cached) => {
    const refresh = fetch(event.request).then((response) => {
      if (response.ok) cache.put(key, response.clone());
      return response;
    });
    if (cached) {
      event.waitUntil(refresh.catch(() => undefined));
      return cached;
    }
    return refresh;
  }));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(fromCacheThenRefresh(event, SHELL));
  } else if (PRECACHE.includes(url.pathname) && url.pathname !== SHELL) {
    event.respondWith(fromCacheThenRefresh(event, url.pathname));
  }
});
