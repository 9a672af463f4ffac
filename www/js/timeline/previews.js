// Timeline previews: the small picture of the instant under the pointer
// (GET /api/v1/devices/{id}/preview.jpg?at=MS, docs/api.md). At most one
// request in flight; while it runs only the newest wanted time is kept and
// asked for next (the latest wins). Answers are cached by time rounded down to
// 500 ms (an object URL each, at most CACHE_MAX, oldest dropped), and
// a miss (404) is cached too, so sweeping back and forth costs nothing.

const ROUND_MS = 500;
const CACHE_MAX = 240;

/**
 * createPreviewLoader(deviceId) -> { want(ms, onReady(preview|null)), cancel(), destroy() }.
 * preview: { url (object URL, owned by the loader), timeMs (capture time) }.
 * onReady is called only for the newest wanted time.
 */
export function createPreviewLoader(deviceId) {
  const cache = new Map();        // rounded ms -> preview or null (none there)
  let inFlight = null;            // rounded ms being fetched
  let wanted = null;              // { key, onReady } the newest wish
  let controller = null;

  const keyOf = (ms) => Math.floor(ms / ROUND_MS) * ROUND_MS;   // at or before the instant

  function remember(key, preview) {
    cache.set(key, preview);
    while (cache.size > CACHE_MAX) {
      const [oldest, value] = cache.entries().next().value;
      if (value) URL.revokeObjectURL(value.url);
      cache.delete(oldest);
    }
  }

  async function fetchOne(key) {
    inFlight = key;
    controller = new AbortController();
    let preview = null;
    try {
      const res = await fetch(`/api/v1/devices/${encodeURIComponent(deviceId)}/preview.jpg?at=${key}`,
        { credentials: 'same-origin', signal: controller.signal });
      if (res.ok) {
        const blob = await res.blob();
        preview = { url: URL.createObjectURL(blob), timeMs: Number(res.headers.get('X-Preview-Time')) || key };
      }
      // A miss near now may be footage still being written: asked again later.
      if (res.ok || (res.status === 404 && key < Date.now() - 10000)) remember(key, preview);
    } catch {
      // aborted or offline: not cached, asked again when wanted again
    }
    inFlight = null;
    controller = null;
    if (!wanted) return;
    const { onReady, key: next } = wanted;
    if (cache.has(next) || next === key) {
      // Answered (a miss near now or a failed request is not cached, but answered once).
      wanted = null;
      onReady(cache.has(next) ? cache.get(next) : preview);
    } else {
      fetchOne(next);
    }
  }

  return {
    want(ms, onReady) {
      const key = keyOf(ms);
      if (cache.has(key)) {
        wanted = null;
        onReady(cache.get(key));
        return;
      }
      wanted = { key, onReady };
      if (inFlight === null) fetchOne(key);
    },
    cancel() { wanted = null; },
    destroy() {
      wanted = null;
      if (controller) controller.abort();
      for (const value of cache.values()) if (value) URL.revokeObjectURL(value.url);
      cache.clear();
    },
  };
}
