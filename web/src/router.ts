// Hash routes: the page and zone live in the fragment (never the token), so links and reloads
// keep the place and the server needs only `/`.
import { useEffect, useState } from 'preact/hooks';

export type ZonePage = 'dns' | 'ssl' | 'origin' | 'origin-setup' | 'notifications' | 'edge-certs';
export type Route = { page: 'zones' } | { page: 'tokens' } | { page: ZonePage; zoneId: string };

const PATHS: Record<ZonePage, string> = {
  dns: 'dns',
  ssl: 'ssl-tls',
  origin: 'ssl-tls/origin',
  'origin-setup': 'ssl-tls/origin/setup',
  notifications: 'notifications',
  'edge-certs': 'ssl-tls/edge-certificates',
};

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '').replace(/\/+$/, '');
  if (path === 'tokens') return { page: 'tokens' };
  const m = /^zones\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (!m) return { page: 'zones' };
  const zoneId = decodeURIComponent(m[1]);
  const rest = m[2] ?? 'dns';
  const page = (Object.keys(PATHS) as ZonePage[]).find((p) => PATHS[p] === rest) ?? 'dns';
  return { page, zoneId };
}

export function href(route: Route): string {
  if (route.page === 'zones') return '#/';
  if (route.page === 'tokens') return '#/tokens';
  return `#/zones/${encodeURIComponent(route.zoneId)}/${PATHS[route.page]}`;
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
