// Where a zone's settings send a visitor instead of the origin: plain HTTP to HTTPS under
// `always_use_https`, HTTPS to plain HTTP in SSL mode `off` (both 301, as Cloudflare answers).
// Pure: the phases decide when, this builds the Location.

/**
 * The same URL under `scheme`: host name, then path and query as sent. A Host without a port
 * means the visitor came on the standard port, so the target is the other standard port (none
 * written); a Host with one means the visitor reached this edge directly on a port of its own, so
 * the target is this edge's listener for `scheme` (`listenerPort`, 0 when unknown).
 */
export function redirectLocation(scheme: 'http' | 'https', hostname: string, hostHeader: string, path: string, listenerPort: number): string {
  const bracket = hostHeader.lastIndexOf(']');
  const hasPort = hostHeader.lastIndexOf(':') > bracket;
  const standard = scheme === 'https' ? 443 : 80;
  const port = hasPort && listenerPort > 0 && listenerPort !== standard ? ':' + listenerPort : '';
  // `OPTIONS *` has no path of its own.
  return scheme + '://' + hostname + port + (path.charCodeAt(0) === 47 /* / */ ? path : '/');
}
