/*
 * hyperlab's cross-origin isolation service worker (see src/web/page/isolation.ts).
 *
 * Browsers only give SharedArrayBuffer to cross-origin isolated pages, and a page is
 * isolated only when its response carries
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 * Static hosts that cannot set headers (GitHub Pages and the like) still run service
 * workers, and a service worker may build the responses it serves: this one re-serves
 * every same-origin response with those headers added. Cross-origin requests pass through
 * untouched (COEP then requires them to opt in with CORP or CORS, as it would anyway).
 *
 * The page registers this worker and reloads once so the worker controls it. A server
 * that already sends the headers never needs it; the page does not register it there.
 */
'use strict';

/** Statuses whose responses must not have a body (Fetch standard, "null body status"). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** @param {Response} response */
function withIsolationHeaders(response) {
  // Opaque and error responses cannot be rebuilt; hand them on as they are.
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(NULL_BODY_STATUS.has(response.status) ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Chrome throws on these when they are fetched again from a worker (crbug.com/823392).
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(fetch(request).then(withIsolationHeaders));
});
