// "Delete zone" (DELETE /zones/{id}): the confirmation lists what goes with the zone, read from
// the API at that moment (its proxied hostnames, certificates and associations), and asks for the
// zone's name, since nothing of it can be brought back.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, getAll, send, seg } from '../api.ts';
import { useForm } from '../hooks.ts';
import type { Association, Certificate, DnsRecord, Zone } from '../types.ts';
import { ErrorText, WriteButton, describedBy } from './ui.ts';

interface ZoneContents {
  hostnames: string[];
  zoneCerts: number;
  hostnameCerts: number;
  associations: number;
}

async function zoneContents(zone: Zone): Promise<ZoneContents> {
  const base = `/zones/${seg(zone.id)}`;
  const [records, zoneCerts, hostnameCerts, assocs] = await Promise.all([
    getAll<DnsRecord>(`${base}/dns_records`, 5000),
    get<Certificate[]>(`${base}/origin_tls_client_auth`),
    get<Certificate[]>(`${base}/origin_tls_client_auth/hostnames/certificates`),
    get<Association[]>(`${base}/origin_tls_client_auth/hostnames`),
  ]);
  return { hostnames: records.map((r) => r.name).sort(), zoneCerts: zoneCerts.length, hostnameCerts: hostnameCerts.length, associations: assocs.length };
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function WhatGoes({ zone, contents }: { zone: Zone; contents: ZoneContents }) {
  const { hostnames } = contents;
  const items = [
    hostnames.length > 0
      ? html`${count(hostnames.length, 'hostname', 'hostnames')} the edge stops serving: <strong>${hostnames.slice(0, 10).join(', ')}</strong>${hostnames.length > 10 ? ` and ${hostnames.length - 10} more` : ''}`
      : 'no hostname (the zone has no DNS record)',
    `${count(contents.zoneCerts, 'zone-level certificate', 'zone-level certificates')}${contents.zoneCerts > 0 ? ' with the private keys' : ''}`,
    `${count(contents.hostnameCerts, 'hostname certificate', 'hostname certificates')} and ${count(contents.associations, 'hostname association', 'hostname associations')}`,
    'its SSL/TLS and Authenticated Origin Pulls settings',
  ];
  return html`<div id=${`zone-delete-contents-${zone.id}`}>
    <p>Deleting <strong>${zone.name}</strong> removes, for good:</p>
    <ul class="zone-delete-list">${items.map((i) => html`<li>${i}</li>`)}</ul>
  </div>`;
}

export function ZoneDelete({ zone, onDeleted, onCancel }: { zone: Zone; onDeleted: () => void; onCancel: () => void }) {
  const [contents, setContents] = useState<ZoneContents | Error | null>(null);
  const [typed, setTyped] = useState('');
  const form = useForm({ name: 'Zone name' });
  const id = `zone-delete-${zone.id}`;

  useEffect(() => {
    let stale = false;
    zoneContents(zone).then(
      (c) => !stale && setContents(c),
      (err: unknown) => !stale && setContents(err instanceof Error ? err : new Error(String(err))),
    );
    return () => void (stale = true);
  }, [zone.id]);

  async function onSubmit(e: Event) {
    e.preventDefault();
    if (typed.trim().toLowerCase() !== zone.name) {
      form.setError('name', `Type ${zone.name} to confirm.`);
      return;
    }
    if (await form.submit(async () => void (await send('DELETE', `/zones/${seg(zone.id)}`)))) onDeleted();
  }

  return html`<form class="card-inset zone-delete" onSubmit=${onSubmit} aria-label=${`Delete zone ${zone.name}`} id=${id} novalidate>
    ${contents === null
      ? html`<p class="muted" role="status">Reading what belongs to ${zone.name}…</p>`
      : contents instanceof Error
        ? html`<${ErrorText} message=${`Could not read what belongs to ${zone.name}: ${contents.message}`} />`
        : html`<${WhatGoes} zone=${zone} contents=${contents} />`}
    <div class="field">
      <label for=${`${id}-name`}>Type <strong>${zone.name}</strong> to confirm</label>
      <input
        id=${`${id}-name`}
        value=${typed}
        autocomplete="off"
        spellcheck="false"
        onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)}
        aria-invalid=${form.errors.name ? 'true' : undefined}
        aria-describedby=${describedBy(form.errors.name && `${id}-name-error`)}
      />
      <${ErrorText} id=${`${id}-name-error`} message=${form.errors.name} />
    </div>
    <div class="actions">
      <${WriteButton} type="submit" kind="danger" busy=${form.busy} id=${`${id}-confirm`}>Delete zone<//>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>
      <${ErrorText} message=${form.errors.form} />
    </div>
  </form>`;
}
