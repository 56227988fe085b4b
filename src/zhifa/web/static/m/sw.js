// Service worker of the officer app (scope /m/). Served by /m/sw.js with its version and
// precache list filled in: a new version means a changed file, so every device fetches the app
// again and drops the old copy.
//   the app (shell, scripts, styles, icons, strings, vendored libraries): cache-first
//   today's tasks and task bundles (GET /api/v1/tasks/today, /api/v1/tasks/{id}): network-first,
//   with the last answer as the fallback when there is no network
//   everything else: the network, untouched (writes go through the app's outbox)
const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const APP_CACHE = `zhifa-m-app-${VERSION}`;
const API_CACHE = "zhifa-m-api";
const API_GETS = [/^\/api\/v1\/tasks\/today$/, /^\/api\/v1\/tasks\/\d+$/];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(APP_CACHE);
    for (const url of PRECACHE) {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      // A login page instead of the shell (session expired) must not be kept as the app.
      if (!response.ok || response.redirected) throw new Error(`cannot precache ${url}`);
      await cache.put(url, response);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("zhifa-m-app-") && name !== APP_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function cacheFirst(request, key) {
  const cached = await caches.match(key, { cacheName: APP_CACHE });
  if (cached) return cached;
  return fetch(request);
}

async function networkFirst(request, key) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(API_CACHE);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(key, { cacheName: API_CACHE });
    if (cached) return cached;
    return new Response(JSON.stringify({ error: { code: "offline", message: "offline", detail: null } }), {
      status: 503, headers: { "Content-Type": "application/json", "X-Zhifa-Offline": "1" },
    });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request, url.pathname));
  } else if (API_GETS.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
