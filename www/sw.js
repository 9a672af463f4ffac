// Doorstep service worker: makes the web UI an installable app and gives a
// "hub unreachable" page when the hub does not answer. It keeps only the UI
// shell (HTML, CSS, JS, icons, the manifest) in a cache named after
// SHELL_VERSION, and only as a fallback: shell files are fetched from the
// hub first (revalidated by ETag), so an upgraded hub's UI is used at once
// and a new SHELL_VERSION drops the old cache. Never cached, never answered
// from here: /api (data, snapshots, footage, downloads, WebSockets), /auth,
// the health checks, any request but GET, and other origins: those go to
// the network as if there were no service worker, so a hub that is down
// makes them fail rather than show stale or private data. Runs in the
// browser's service worker thread; served from / so its scope is the UI.

const SHELL_VERSION = 'doorstep-shell-1';
const OFFLINE_PAGE = '/offline.html';
// Fetched at install so the offline page works the first time it is needed;
// the rest of the shell (page modules) is kept as the UI loads it. A file
// missing from this list's hub (renamed, removed) is skipped, not fatal.
const PRECACHE = [
  OFFLINE_PAGE, '/', '/index.html', '/app.js', '/manifest.webmanifest',
  '/style.css', '/css/base.css', '/css/components.css', '/css/live.css', '/css/talk.css',
  '/css/timeline.css', '/css/notifications.css',
  '/icons/logo.svg', '/icons/favicon.svg', '/icons/icon-192.png', '/icons/icon-512.png',
];
const SHELL_FILE = /\.(html|js|css|svg|png|ico|webmanifest|woff2)$/;
const NEVER = /^\/(api|auth|livez|readyz)(\/|$)/;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_VERSION);
    await Promise.all(PRECACHE.map((path) => cache.add(new Request(path, { cache: 'no-cache' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL_VERSION) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Whether a request is part of the UI shell (the only thing this worker answers).
function isShell(request, url) {
  if (request.method !== 'GET' || url.origin !== self.location.origin) return false;
  if (NEVER.test(url.pathname)) return false;
  return request.mode === 'navigate' || url.pathname === '/' || SHELL_FILE.test(url.pathname);
}

// Network first; keep a good answer; the kept copy (or the offline page for
// a page load) only when the hub cannot be reached.
async function shellResponse(request, url) {
  const cache = await caches.open(SHELL_VERSION);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') cache.put(request, response.clone());
    return response;
  } catch (error) {
    if (request.mode === 'navigate') {
      return (await cache.match(OFFLINE_PAGE)) || Response.error();
    }
    return (await cache.match(request, { ignoreSearch: url.pathname.endsWith('.png') })) || Response.error();
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (!isShell(event.request, url)) return; // the network, untouched
  event.respondWith(shellResponse(event.request, url));
});

// A system notification shown through the worker (phones allow only
// those): a click focuses an open Doorstep tab at its link, or opens one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const link = (event.notification.data && event.notification.data.link) || '/#/devices';
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const tab of tabs) {
      if (new URL(tab.url).origin === self.location.origin) {
        await tab.focus();
        return tab.navigate(new URL(link, self.location.origin).href);
      }
    }
    return self.clients.openWindow(link);
  })());
});
