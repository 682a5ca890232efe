// Host name rules shared by the API (validation) and the snapshot builder (routing).

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cases and drops one trailing dot. Does not validate. */
export function normalizeHostname(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** A DNS name of letter-digit-hyphen labels, optionally starting with a single `*.` label. */
export function isValidHostname(name: string, { allowWildcard = false } = {}): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels.length < 2) return false;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (i === 0 && label === '*' && allowWildcard) continue;
    if (!LABEL.test(label)) return false;
  }
  return true;
}

/** Whether `hostname` is the zone apex or below it (`a.example.com` belongs to `example.com`). */
export function belongsToZone(hostname: string, zoneName: string): boolean {
  return hostname === zoneName || hostname.endsWith('.' + zoneName);
}

/** The wildcard that would cover `hostname` one level up (`a.b.example.com` → `*.b.example.com`). */
export function wildcardFor(hostname: string): string | null {
  const dot = hostname.indexOf('.');
  if (dot < 0) return null;
  return '*' + hostname.slice(dot);
}
