// Webhook destinations: list (name, URL, last success and failure), add, edit, delete. Saving
// makes the API send its test message first; when the receiver fails, the API's 400 names what
// happened and it lands beside the URL field (nothing is stored). Deleting a webhook a policy
// still uses is a 409 whose message names the policies; it shows beside Delete.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { send, seg } from '../api.ts';
import { formatDate } from '../format.ts';
import { useForm } from '../hooks.ts';
import type { AlertWebhook } from '../types.ts';
import type { NotifyScope } from './notifications-common.ts';
import { ErrorText, Section, WriteButton, describedBy } from './ui.ts';

/** Wire names and their labels (API refusals are told in these words). */
const FIELDS = { name: 'Name', url: 'URL', secret: 'Secret' };

interface Draft {
  name: string;
  url: string;
  secret: string;
  removeSecret: boolean;
}

function WebhookForm({ scope, webhook, idPrefix, onDone, onCancel }: {
  scope: NotifyScope;
  /** Editing this one; undefined to add. */
  webhook?: AlertWebhook;
  idPrefix: string;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const [d, setD] = useState<Draft>({ name: webhook?.name ?? '', url: webhook?.url ?? '', secret: '', removeSecret: false });
  const form = useForm(FIELDS);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const id = (f: string) => `${idPrefix}-${f}`;
  const err = (f: string) => form.errors[f];
  const aria = (f: string, hint?: boolean) => ({
    'aria-invalid': err(f) ? 'true' : undefined,
    'aria-describedby': describedBy(hint && `${id(f)}-hint`, err(f) && `${id(f)}-error`),
  });
  const set = (k: keyof Draft) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setD({ ...d, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };

  async function onSubmit(e: Event) {
    e.preventDefault();
    const body: { name: string; url: string; secret?: string } = { name: d.name.trim(), url: d.url.trim() };
    // Create: no secret unless typed. Edit: an omitted secret keeps the current one, "" removes it.
    if (d.removeSecret) body.secret = '';
    else if (d.secret !== '') body.secret = d.secret;
    const ok = await form.submit(async () => {
      if (webhook) await send('PUT', `${scope.base}/destinations/webhooks/${seg(webhook.id)}`, body);
      else await send('POST', `${scope.base}/destinations/webhooks`, body);
    });
    if (ok) onDone(`${webhook ? 'Saved' : 'Added'} webhook “${body.name}”: the test message was answered.`);
  }

  return html`<form class="notify-form" onSubmit=${onSubmit} aria-label=${webhook ? `Edit webhook ${webhook.name}` : 'Add a webhook'} id=${id('form')}>
    <div class="grid-fields">
      <div class="field">
        <label for=${id('name')}>Name</label>
        <input id=${id('name')} ref=${first} value=${d.name} onInput=${set('name')} autocomplete="off" maxlength="256" ...${aria('name')} />
        <${ErrorText} id=${`${id('name')}-error`} message=${err('name')} />
      </div>
      <div class="field span-2">
        <label for=${id('url')}>URL</label>
        <input id=${id('url')} type="url" inputmode="url" value=${d.url} onInput=${set('url')} autocomplete="off" spellcheck="false" placeholder="https://hooks.example.com/originpull" ...${aria('url', true)} />
        <p class="hint" id=${`${id('url')}-hint`}>Saving sends a test message here; the receiver must answer 2xx. Redirects are not followed.</p>
        <${ErrorText} id=${`${id('url')}-error`} message=${err('url')} />
      </div>
      <div class="field">
        <label for=${id('secret')}>Secret <span class="muted small">(optional)</span></label>
        <input
          id=${id('secret')}
          type="password"
          value=${d.secret}
          onInput=${set('secret')}
          autocomplete="new-password"
          disabled=${d.removeSecret}
          ...${aria('secret', true)}
        />
        <p class="hint" id=${`${id('secret')}-hint`}>
          Sent in the <code>cf-webhook-auth</code> header; never shown again.${webhook ? ' Leave empty to keep the current secret.' : ''}
        </p>
        <${ErrorText} id=${`${id('secret')}-error`} message=${err('secret')} />
      </div>
      ${webhook
        ? html`<div class="field checkbox-field span-2">
            <input id=${id('remove-secret')} type="checkbox" checked=${d.removeSecret} onChange=${set('removeSecret')} />
            <label for=${id('remove-secret')}>Remove the secret</label>
          </div>`
        : null}
    </div>
    <div class="actions">
      <${WriteButton} type="submit" kind="primary" busy=${form.busy} id=${id('save')}>${webhook ? 'Save and test' : 'Add and test'}<//>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>
      ${form.busy ? html`<span class="muted small" role="status"><span class="spinner" aria-hidden="true"></span> Sending the test message…</span>` : null}
      <${ErrorText} message=${form.errors.form} />
    </div>
  </form>`;
}

/** "never", or the time; a failure newer than the last success is red. */
function When({ at, bad }: { at: string | null; bad?: boolean }) {
  if (at === null) return html`<span class="muted">never</span>`;
  return html`<span class=${bad ? 'text-bad' : ''}>${formatDate(at)}</span>`;
}

function WebhookRow({ scope, webhook, onMessage }: { scope: NotifyScope; webhook: AlertWebhook; onMessage: (m: string) => void }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const del = useForm();
  const users = scope.policies.filter((p) => p.mechanisms.webhooks.some((w) => w.id === webhook.id));
  if (mode === 'edit') {
    return html`<tr class="editing" data-webhook-id=${webhook.id}>
      <td colspan="5">
        <${WebhookForm}
          scope=${scope}
          webhook=${webhook}
          idPrefix=${`webhook-edit-${webhook.id}`}
          onCancel=${() => setMode('view')}
          onDone=${(m: string) => {
            setMode('view');
            onMessage(m);
          }}
        />
      </td>
    </tr>`;
  }
  const failing = webhook.last_failure !== null && (webhook.last_success === null || Date.parse(webhook.last_failure) > Date.parse(webhook.last_success));
  return html`<tr data-webhook-id=${webhook.id}>
    <td data-label="Name"><strong>${webhook.name}</strong>${users.length > 0 ? html`<br /><span class="muted small">used by ${users.map((p) => p.name).join(', ')}</span>` : null}</td>
    <td data-label="URL"><code class="wrap">${webhook.url}</code></td>
    <td data-label="Last success"><${When} at=${webhook.last_success} /></td>
    <td data-label="Last failure"><${When} at=${webhook.last_failure} bad=${failing} /></td>
    <td data-label="Actions" class="row-actions">
      ${mode === 'confirm-delete'
        ? html`<span class="confirm">
            Delete ${webhook.name}?
            <${WriteButton} kind="danger" busy=${del.busy} onClick=${async () => {
              if (await del.submit(async () => void (await send('DELETE', `${scope.base}/destinations/webhooks/${seg(webhook.id)}`)))) onMessage(`Deleted webhook “${webhook.name}”.`);
            }}>Delete<//>
            <button type="button" class="btn btn-secondary" onClick=${() => { setMode('view'); del.clear(); }}>Cancel</button>
          </span>`
        : html`<${WriteButton} label=${`Edit webhook ${webhook.name}`} onClick=${() => setMode('edit')}>Edit<//>
            <${WriteButton} kind="danger" label=${`Delete webhook ${webhook.name}`} onClick=${() => setMode('confirm-delete')}>Delete<//>`}
      <${ErrorText} message=${del.errors.form} />
    </td>
  </tr>`;
}

export function WebhooksSection({ scope }: { scope: NotifyScope }) {
  const [adding, setAdding] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  return html`<${Section}
    title="Webhook destinations"
    id="notify-webhooks"
    actions=${adding ? null : html`<${WriteButton} kind="primary" id="webhook-add-open" onClick=${() => { setAdding(true); setMessage(null); }}>Add webhook<//>`}
  >
    <p class="muted">Where alerts are POSTed, as Cloudflare's generic webhook payload.</p>
    ${adding
      ? html`<div class="card-inset">
          <h3>Add a webhook</h3>
          <${WebhookForm}
            scope=${scope}
            idPrefix="webhook-new"
            onCancel=${() => setAdding(false)}
            onDone=${(m: string) => {
              setAdding(false);
              setMessage(m);
            }}
          />
        </div>`
      : null}
    ${message ? html`<p class="banner banner-ok" role="status">${message}</p>` : null}
    ${scope.webhooks.length === 0
      ? html`<p class="muted">No webhook yet. Add one to receive alerts.</p>`
      : html`<div class="table-wrap">
          <table class="table responsive" id="webhook-table">
            <caption class="visually-hidden">Webhook destinations of ${scope.accountName}</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Last success</th><th scope="col">Last failure</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${scope.webhooks.map((w) => html`<${WebhookRow} key=${w.id} scope=${scope} webhook=${w} onMessage=${setMessage} />`)}
            </tbody>
          </table>
        </div>`}
  <//>`;
}
