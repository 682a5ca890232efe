// Proxied hostnames: DNS records (A, AAAA, CNAME) whose content is the origin, with the origin's
// HTTP and HTTPS ports (originpull extensions). Add, edit inline, delete.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { getAll, send } from '../api.ts';
import { useAccess, useForm, usePoll } from '../hooks.ts';
import type { DnsRecord, Zone } from '../types.ts';
import { ErrorText, Loading, Section, WriteButton, describedBy } from './ui.ts';

/** Wire names and the labels the form shows them under (API refusals are told in these words). */
const FIELDS = {
  type: 'Type',
  name: 'Name',
  content: 'Origin address',
  origin_http_port: 'Origin HTTP port',
  origin_https_port: 'Origin HTTPS port',
  proxied: 'Proxied',
};

interface Draft {
  type: DnsRecord['type'];
  name: string;
  content: string;
  origin_http_port: string;
  origin_https_port: string;
  proxied: boolean;
}

const EMPTY: Draft = { type: 'A', name: '', content: '', origin_http_port: '80', origin_https_port: '443', proxied: true };

function draftOf(r: DnsRecord, zone: Zone): Draft {
  return {
    type: r.type,
    name: r.name === zone.name ? '@' : r.name,
    content: r.content,
    origin_http_port: String(r.origin_http_port),
    origin_https_port: String(r.origin_https_port),
    proxied: r.proxied,
  };
}

function bodyOf(d: Draft) {
  const port = (v: string) => (v.trim() === '' ? undefined : Number(v));
  return { type: d.type, name: d.name.trim(), content: d.content.trim(), proxied: d.proxied, origin_http_port: port(d.origin_http_port), origin_https_port: port(d.origin_https_port) };
}

const CONTENT_HINT: Record<Draft['type'], string> = {
  A: 'The origin’s IPv4 address, e.g. 192.0.2.10',
  AAAA: 'The origin’s IPv6 address, e.g. 2001:db8::10',
  CNAME: 'The origin’s host name, e.g. origin.internal',
};

function RecordForm({ zone, initial, submitLabel, onSave, onCancel, idPrefix }: {
  zone: Zone;
  initial: Draft;
  submitLabel: string;
  onSave: (body: ReturnType<typeof bodyOf>) => Promise<void>;
  onCancel?: () => void;
  idPrefix: string;
}) {
  const [d, setD] = useState<Draft>(initial);
  const form = useForm(FIELDS);
  const set = (k: keyof Draft) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setD({ ...d, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const id = (f: string) => `${idPrefix}-${f}`;
  const err = (f: string) => form.errors[f];
  const aria = (f: string, hint?: boolean) => ({
    'aria-invalid': err(f) ? 'true' : undefined,
    'aria-describedby': describedBy(hint && `${id(f)}-hint`, err(f) && `${id(f)}-error`),
  });

  async function onSubmit(e: Event) {
    e.preventDefault();
    const ok = await form.submit(() => onSave(bodyOf(d)));
    if (ok && !onCancel) setD(EMPTY);
  }

  return html`<form class="record-form" onSubmit=${onSubmit} aria-label=${submitLabel}>
    <div class="grid-fields">
      <div class="field">
        <label for=${id('type')}>Type</label>
        <select id=${id('type')} value=${d.type} onChange=${set('type')} ...${aria('type')}>
          <option value="A">A</option>
          <option value="AAAA">AAAA</option>
          <option value="CNAME">CNAME</option>
        </select>
        <${ErrorText} id=${`${id('type')}-error`} message=${err('type')} />
      </div>
      <div class="field span-2">
        <label for=${id('name')}>Name</label>
        <input id=${id('name')} value=${d.name} onInput=${set('name')} autocomplete="off" spellcheck="false" placeholder="www" ...${aria('name', true)} />
        <p class="hint" id=${`${id('name')}-hint`}><code>www</code>, <code>@</code> for ${zone.name}, or a wildcard <code>*.${zone.name}</code></p>
        <${ErrorText} id=${`${id('name')}-error`} message=${err('name')} />
      </div>
      <div class="field span-2">
        <label for=${id('content')}>Origin address</label>
        <input id=${id('content')} value=${d.content} onInput=${set('content')} autocomplete="off" spellcheck="false" ...${aria('content', true)} />
        <p class="hint" id=${`${id('content')}-hint`}>${CONTENT_HINT[d.type]}</p>
        <${ErrorText} id=${`${id('content')}-error`} message=${err('content')} />
      </div>
      <div class="field">
        <label for=${id('origin_http_port')}>Origin HTTP port</label>
        <input id=${id('origin_http_port')} type="number" min="1" max="65535" inputmode="numeric" value=${d.origin_http_port} onInput=${set('origin_http_port')} ...${aria('origin_http_port')} />
        <${ErrorText} id=${`${id('origin_http_port')}-error`} message=${err('origin_http_port')} />
      </div>
      <div class="field">
        <label for=${id('origin_https_port')}>Origin HTTPS port</label>
        <input id=${id('origin_https_port')} type="number" min="1" max="65535" inputmode="numeric" value=${d.origin_https_port} onInput=${set('origin_https_port')} ...${aria('origin_https_port')} />
        <${ErrorText} id=${`${id('origin_https_port')}-error`} message=${err('origin_https_port')} />
      </div>
      <div class="field checkbox-field">
        <input id=${id('proxied')} type="checkbox" checked=${d.proxied} onChange=${set('proxied')} ...${aria('proxied', true)} />
        <label for=${id('proxied')}>Proxied</label>
        <p class="hint" id=${`${id('proxied')}-hint`}>The edge serves proxied records only.</p>
        <${ErrorText} id=${`${id('proxied')}-error`} message=${err('proxied')} />
      </div>
    </div>
    <div class="actions">
      <${WriteButton} type="submit" kind="primary" busy=${form.busy}>${submitLabel}<//>
      ${onCancel ? html`<button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>` : null}
      <${ErrorText} message=${form.errors.form} />
    </div>
  </form>`;
}

function RecordRow({ record, zone, onChanged }: { record: DnsRecord; zone: Zone; onChanged: () => void }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const del = useForm();
  const access = useAccess();
  if (mode === 'edit') {
    return html`<tr class="editing">
      <td colspan="7">
        <${RecordForm}
          zone=${zone}
          idPrefix=${`edit-${record.id}`}
          initial=${draftOf(record, zone)}
          submitLabel=${`Save ${record.name}`}
          onCancel=${() => setMode('view')}
          onSave=${async (body: ReturnType<typeof bodyOf>) => {
            await send('PATCH', `/zones/${zone.id}/dns_records/${record.id}`, body);
            setMode('view');
            onChanged();
          }}
        />
      </td>
    </tr>`;
  }
  return html`<tr>
    <td data-label="Name"><strong>${record.name}</strong></td>
    <td data-label="Type">${record.type}</td>
    <td data-label="Origin"><code>${record.content}</code></td>
    <td data-label="HTTP port">${record.origin_http_port}</td>
    <td data-label="HTTPS port">${record.origin_https_port}</td>
    <td data-label="Proxied">${record.proxied ? html`<span class="badge badge-ok">Proxied</span>` : html`<span class="badge badge-muted">DNS only</span>`}</td>
    <td data-label="Actions" class="row-actions">
      ${mode === 'confirm-delete'
        ? html`<span class="confirm">
            Delete ${record.name}?
            <${WriteButton} kind="danger" busy=${del.busy} onClick=${() => del.submit(async () => {
              await send('DELETE', `/zones/${zone.id}/dns_records/${record.id}`);
              onChanged();
            })}>Delete<//>
            <button type="button" class="btn btn-secondary" onClick=${() => { setMode('view'); del.clear(); }}>Cancel</button>
          </span>`
        : html`<${WriteButton} label=${`Edit ${record.name}`} onClick=${() => setMode('edit')}>Edit<//>
            <${WriteButton} kind="danger" label=${`Delete ${record.name}`} onClick=${() => setMode('confirm-delete')}>Delete<//>`}
      ${access.canEdit ? html`<${ErrorText} message=${del.errors.form} />` : null}
    </td>
  </tr>`;
}

export function DnsPage({ zone }: { zone: Zone }) {
  const records = usePoll((read) => getAll<DnsRecord>(`/zones/${zone.id}/dns_records`, 5000, read), [zone.id], null);
  const list = records.data ?? [];
  return html`<div class="page">
    <h1 tabindex="-1">Proxied hostnames</h1>
    <p class="lead">Each hostname the edge serves for ${zone.name}, and the origin it forwards to.</p>
    <${Section} title="Hostnames" id="dns-list">
      ${records.error ? html`<${ErrorText} message=${records.error.message} />` : null}
      ${!records.loaded
        ? html`<${Loading} what="hostnames" />`
        : list.length === 0
          ? html`<p class="muted">No hostname yet: add one below.</p>`
          : html`<div class="table-wrap">
              <table class="table responsive">
                <caption class="visually-hidden">Proxied hostnames of ${zone.name}</caption>
                <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Origin</th><th scope="col">HTTP port</th><th scope="col">HTTPS port</th><th scope="col">Proxy</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  ${list.map((r) => html`<${RecordRow} key=${r.id} record=${r} zone=${zone} onChanged=${() => void records.reload()} />`)}
                </tbody>
              </table>
            </div>`}
    <//>
    <${Section} title="Add a hostname" id="dns-add">
      <${RecordForm}
        zone=${zone}
        idPrefix="new-record"
        initial=${EMPTY}
        submitLabel="Add hostname"
        onSave=${async (body: ReturnType<typeof bodyOf>) => {
          await send('POST', `/zones/${zone.id}/dns_records`, body);
          await records.reload();
        }}
      />
    <//>
  </div>`;
}
