// The zone list with "Delete zone" (zone-delete.ts), and "Add a zone" (POST /zones).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { send } from '../api.ts';
import { useForm } from '../hooks.ts';
import { href, navigate } from '../router.ts';
import type { Zone } from '../types.ts';
import { ErrorText, Section, WriteButton, describedBy } from './ui.ts';
import { ZoneDelete } from './zone-delete.ts';

export function AddZone({ onCreated }: { onCreated: (zone: Zone) => void }) {
  const [name, setName] = useState('');
  const form = useForm({ name: 'Zone name' });
  async function onSubmit(e: Event) {
    e.preventDefault();
    await form.submit(async () => {
      const zone = (await send<Zone>('POST', '/zones', { name: name.trim() })).result;
      setName('');
      onCreated(zone);
    });
  }
  const error = form.errors.name ?? form.errors.form;
  return html`<form class="inline-form" onSubmit=${onSubmit} aria-label="Add a zone">
    <div class="field grow">
      <label for="zone-name">Zone name</label>
      <input
        id="zone-name"
        value=${name}
        placeholder="example.com"
        autocomplete="off"
        spellcheck="false"
        onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${describedBy('zone-name-hint', error && 'zone-name-error')}
      />
      <p class="hint" id="zone-name-hint">The domain whose hostnames the edge serves, e.g. example.com.</p>
      <${ErrorText} id="zone-name-error" message=${error} />
    </div>
    <${WriteButton} type="submit" kind="primary" busy=${form.busy}>Add zone<//>
  </form>`;
}

export function ZonesPage({ zones, loaded, error, onChanged }: { zones: Zone[]; loaded: boolean; error: Error | null; onChanged: () => void }) {
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);
  return html`<div class="page">
    <h1 tabindex="-1">Zones</h1>
    <${Section} title="Your zones" id="zone-list">
      ${error ? html`<${ErrorText} message=${error.message} />` : null}
      ${deleted ? html`<p class="banner banner-ok" role="status" id="zone-deleted">Deleted ${deleted}: the edge no longer serves its hostnames.</p>` : null}
      ${!loaded
        ? html`<p class="muted" role="status">Loading zones…</p>`
        : zones.length === 0
          ? html`<p class="muted">No zone yet. Add one below to start proxying its hostnames.</p>`
          : html`<ul class="zone-list">
              ${zones.map(
                (z) => html`<li data-zone=${z.name}>
                  <a href=${href({ page: 'dns', zoneId: z.id })}><strong>${z.name}</strong></a>
                  <span class="muted small">
                    <a href=${href({ page: 'ssl', zoneId: z.id })}>SSL/TLS</a>${' · '}
                    <a href=${href({ page: 'origin', zoneId: z.id })}>Origin Server</a>
                  </span>
                  ${deleting === z.id
                    ? null
                    : html`<span class="zone-actions"><${WriteButton} kind="danger" label=${`Delete zone ${z.name}`} onClick=${() => { setDeleting(z.id); setDeleted(null); }}>Delete<//></span>`}
                  ${deleting === z.id
                    ? html`<${ZoneDelete}
                        zone=${z}
                        onCancel=${() => setDeleting(null)}
                        onDeleted=${() => {
                          setDeleting(null);
                          setDeleted(z.name);
                          onChanged();
                        }}
                      />`
                    : null}
                </li>`,
              )}
            </ul>`}
    <//>
    <${Section} title="Add a zone" id="zone-add">
      <${AddZone}
        onCreated=${(zone: Zone) => {
          onChanged();
          navigate({ page: 'dns', zoneId: zone.id });
        }}
      />
    <//>
  </div>`;
}
