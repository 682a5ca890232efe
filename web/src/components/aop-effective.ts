// "Which certificate does the edge present for this hostname, and why": GET
// …/origin_tls_client_auth/effective/{hostname} for each proxied or associated hostname, live.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { get, getAll, seg, type Read } from '../api.ts';
import { colonHex, shortId } from '../format.ts';
import { POLL_MS, errorMessage, usePoll } from '../hooks.ts';
import type { Association, DnsRecord, Effective, Zone } from '../types.ts';
import { ErrorText, ExpiryBadge, Loading, Section, StatusBadge, describedBy } from './ui.ts';

const MAX_ROWS = 25;

const LEVEL_TEXT: Record<Effective['level'], string> = { hostname: 'Per-hostname', zone: 'Zone-level', global: 'Global', none: 'None' };

type Row = { hostname: string; effective: Effective | null; error: string | null };

async function loadRows(zone: Zone, extra: string[], read: Read): Promise<{ rows: Row[]; more: number }> {
  const [records, assocs] = await Promise.all([
    getAll<DnsRecord>(`/zones/${zone.id}/dns_records`, 5000, read),
    get<Association[]>(`/zones/${zone.id}/origin_tls_client_auth/hostnames`, read),
  ]);
  const names = [...new Set([...extra, ...records.filter((r) => r.proxied).map((r) => r.name), ...assocs.map((a) => a.hostname)])];
  const shown = names.slice(0, MAX_ROWS);
  const rows = await Promise.all(
    shown.map(async (hostname): Promise<Row> => {
      try {
        return { hostname, effective: await get<Effective>(`/zones/${zone.id}/origin_tls_client_auth/effective/${seg(hostname)}`, read), error: null };
      } catch (err) {
        return { hostname, effective: null, error: errorMessage(err) };
      }
    }),
  );
  return { rows, more: names.length - shown.length };
}

export function EffectiveAop({ zone }: { zone: Zone }) {
  const [extra, setExtra] = useState<string[]>([]);
  const [lookup, setLookup] = useState('');
  const data = usePoll((read) => loadRows(zone, extra, read), [zone.id, extra.join(',')], POLL_MS);
  const rows = data.data?.rows ?? [];

  function onLookup(e: Event) {
    e.preventDefault();
    const name = lookup.trim().toLowerCase();
    if (name !== '' && !extra.includes(name)) setExtra([name, ...extra]);
    setLookup('');
  }

  return html`<${Section} title="Effective client certificate" id="aop-effective">
    <p class="muted">Which certificate the edge presents to the origin of each hostname, and why. Precedence: per-hostname, then zone-level, then global.</p>
    <form class="inline-form" onSubmit=${onLookup} aria-label="Check a hostname">
      <div class="field grow">
        <label for="effective-lookup">Check another hostname</label>
        <input id="effective-lookup" value=${lookup} autocomplete="off" spellcheck="false" placeholder=${`api.${zone.name}`} onInput=${(e: Event) => setLookup((e.target as HTMLInputElement).value)} />
      </div>
      <button type="submit" class="btn btn-secondary">Check</button>
    </form>
    ${data.error ? html`<${ErrorText} message=${data.error.message} />` : null}
    ${!data.loaded
      ? html`<${Loading} what="effective certificates" />`
      : rows.length === 0
        ? html`<p class="muted">No proxied hostname yet.</p>`
        : html`<div class="table-wrap">
            <table class="table responsive" id="effective-table">
              <caption class="visually-hidden">Effective client certificate by hostname</caption>
              <thead><tr><th scope="col">Hostname</th><th scope="col">Level</th><th scope="col">Certificate</th><th scope="col">Why</th></tr></thead>
              <tbody>
                ${rows.map((r) => {
                  const e = r.effective;
                  const c = e?.certificate;
                  const why = `why-${r.hostname.replace(/[^a-z0-9]/gi, '-')}`;
                  return html`<tr data-hostname=${r.hostname} data-level=${e?.level ?? ''}>
                    <td data-label="Hostname"><strong>${r.hostname}</strong>${e && !e.proxied ? html` <span class="badge badge-muted">not proxied</span>` : null}</td>
                    <td data-label="Level" aria-describedby=${describedBy(e && why)}>${e ? html`<span class=${`badge level-${e.level}`}>${LEVEL_TEXT[e.level]}</span>` : '—'}</td>
                    <td data-label="Certificate">
                      ${c
                        ? html`<code title=${c.id}>${c.id === 'global' ? 'installation certificate' : shortId(c.id)}</code> <${StatusBadge} status=${c.status} /><br />
                            <span class="muted small mono" title="SHA-256 fingerprint">${colonHex(c.fingerprint_sha256).slice(0, 23)}…</span><br /><${ExpiryBadge} expires=${c.expires_on} />`
                        : html`<span class="muted">none</span>`}
                    </td>
                    <td data-label="Why" id=${why}>${e ? e.explanation : html`<${ErrorText} message=${r.error ?? undefined} />`}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>
          ${(data.data?.more ?? 0) > 0 ? html`<p class="muted small">${data.data?.more} more hostnames: use “Check another hostname”.</p>` : null}`}
  <//>`;
}
