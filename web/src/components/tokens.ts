// API tokens (GET/POST/DELETE /user/tokens, which take the admin token): the list, "Create a
// token" with name, permission and zones, whose secret is shown once, and delete with a
// confirmation. Other tokens see why the page is empty instead of errors.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiFailure, get, send, seg } from '../api.ts';
import { formatDate } from '../format.ts';
import { useForm, usePoll } from '../hooks.ts';
import type { ApiToken, Zone } from '../types.ts';
import { CheckboxGroup } from './notifications-common.ts';
import { ErrorText, Loading, Section, WriteButton, describedBy } from './ui.ts';

const FIELDS = { name: 'Name', permission: 'Permission', zones: 'Zones' };

function zoneList(ids: string[] | null, zones: Zone[]): string {
  if (ids === null) return 'All zones';
  return ids.map((id) => zones.find((z) => z.id === id)?.name ?? `${id.slice(0, 8)}… (deleted)`).join(', ');
}

/** The secret of a token just created: the only time anyone sees it. */
function NewSecret({ token, onDone }: { token: ApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(token.value ?? '');
      setCopied('Copied.');
    } catch {
      setCopied('Copying was refused by the browser: select the token and copy it by hand.');
    }
  }
  return html`<div class="banner banner-ok new-secret" role="status" id="token-secret">
    <p><strong>Token “${token.name}” created.</strong> Copy it now: it is shown only this once and cannot be read again.</p>
    <label for="token-secret-value">Token</label>
    <div class="secret-row">
      <input id="token-secret-value" readonly value=${token.value ?? ''} spellcheck="false" onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} />
      <button type="button" class="btn btn-secondary" onClick=${copy}>Copy</button>
    </div>
    ${copied ? html`<p class="hint">${copied}</p>` : null}
    <p class="hint">Send it as <code>Authorization: Bearer …</code>, or sign in to this dashboard with it.</p>
    <div class="actions"><button type="button" class="btn btn-primary" onClick=${onDone}>Done</button></div>
  </div>`;
}

function CreateToken({ zones, onCreated }: { zones: Zone[]; onCreated: (token: ApiToken) => void }) {
  const [name, setName] = useState('');
  const [permission, setPermission] = useState<'read' | 'edit'>('read');
  const [scope, setScope] = useState<'all' | 'some'>('all');
  const [picked, setPicked] = useState<string[]>([]);
  const form = useForm(FIELDS);
  const err = (f: string) => form.errors[f];

  async function onSubmit(e: Event) {
    e.preventDefault();
    if (name.trim() === '') {
      form.setError('name', 'Name the token, e.g. after who or what uses it (“deploy script”).');
      return;
    }
    if (scope === 'some' && picked.length === 0) {
      form.setError('zones', 'Choose at least one zone, or allow all zones.');
      return;
    }
    await form.submit(async () => {
      const created = (await send<ApiToken>('POST', '/user/tokens', { name: name.trim(), permission, zones: scope === 'all' ? null : picked })).result;
      setName('');
      setPicked([]);
      onCreated(created);
    });
  }

  return html`<form class="notify-form" onSubmit=${onSubmit} aria-label="Create a token" id="token-create" novalidate>
    <div class="grid-fields">
      <div class="field span-2">
        <label for="token-name">Name</label>
        <input
          id="token-name"
          value=${name}
          maxlength="120"
          autocomplete="off"
          placeholder="deploy script"
          onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)}
          aria-invalid=${err('name') ? 'true' : undefined}
          aria-describedby=${describedBy(err('name') && 'token-name-error')}
        />
        <${ErrorText} id="token-name-error" message=${err('name')} />
      </div>
    </div>
    <fieldset class="field radio-row" id="token-permission">
      <legend>Permission</legend>
      <label><input type="radio" name="token-permission" checked=${permission === 'read'} onChange=${() => setPermission('read')} /> Read <span class="muted small">(sees everything, changes nothing)</span></label>
      <label><input type="radio" name="token-permission" checked=${permission === 'edit'} onChange=${() => setPermission('edit')} /> Edit <span class="muted small">(also changes records, settings and certificates)</span></label>
      <${ErrorText} message=${err('permission')} />
    </fieldset>
    <fieldset class="field radio-row" id="token-scope">
      <legend>Zones</legend>
      <label><input type="radio" name="token-zones" checked=${scope === 'all'} onChange=${() => setScope('all')} /> All zones <span class="muted small">(also zones added later)</span></label>
      <label><input type="radio" name="token-zones" checked=${scope === 'some'} onChange=${() => setScope('some')} /> Only these zones</label>
    </fieldset>
    ${scope === 'some'
        ? html`<${CheckboxGroup}
            id="token-zone-list"
            legend="Zones this token may use"
            options=${zones.map((z) => ({ value: z.id, label: z.name }))}
            selected=${picked}
            onChange=${setPicked}
            empty="There is no zone yet."
            error=${err('zones')}
          />`
      : html`<${ErrorText} message=${err('zones')} />`}
    <div class="actions">
      <${WriteButton} type="submit" kind="primary" busy=${form.busy} id="token-create-submit">Create token<//>
      <${ErrorText} message=${form.errors.form} />
    </div>
  </form>`;
}

function TokenRow({ token, zones, onDeleted }: { token: ApiToken; zones: Zone[]; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const del = useForm();
  return html`<tr data-token-id=${token.id} data-token-name=${token.name}>
    <td data-label="Name"><strong>${token.name}</strong>${token.admin ? html` <span class="badge badge-info">Admin</span>` : null}</td>
    <td data-label="Permission">${token.admin ? 'Everything, including tokens' : token.permission === 'edit' ? 'Edit' : 'Read'}</td>
    <td data-label="Zones">${zoneList(token.zones, zones)}</td>
    <td data-label="Created">${formatDate(token.issued_on)}</td>
    <td data-label="Actions" class="row-actions">
      ${token.admin
        ? html`<span class="muted small">Rotate it by replacing <code>${'<data-dir>/admin-token'}</code> or setting ORIGINPULL_API_TOKEN.</span>`
        : confirming
          ? html`<span class="confirm">
              Delete the token “${token.name}”? Whatever uses it is refused from then on.
              <${WriteButton} kind="danger" busy=${del.busy} onClick=${async () => {
                if (await del.submit(async () => void (await send('DELETE', `/user/tokens/${seg(token.id)}`)))) onDeleted();
              }}>Delete<//>
              <button type="button" class="btn btn-secondary" onClick=${() => { setConfirming(false); del.clear(); }}>Cancel</button>
            </span>`
          : html`<${WriteButton} kind="danger" label=${`Delete token ${token.name}`} onClick=${() => setConfirming(true)}>Delete<//>`}
      <${ErrorText} message=${del.errors.form} />
    </td>
  </tr>`;
}

export function TokensPage({ zones, admin }: { zones: Zone[]; admin: boolean }) {
  const tokens = usePoll((read) => get<ApiToken[]>('/user/tokens', read), [], null);
  const [created, setCreated] = useState<ApiToken | null>(null);
  const list = tokens.data ?? [];
  const refused = tokens.error instanceof ApiFailure && tokens.error.status === 403;
  return html`<div class="page">
    <h1 tabindex="-1">API tokens</h1>
    <p class="lead">Tokens for scripts, CI and people: each may read or also edit, every zone or only some. Managing them takes the admin token.</p>
    ${!admin || refused
      ? html`<p class="banner banner-info" id="tokens-admin-only">
          Only the admin token can list, create and delete tokens${refused ? html` (the API answered: “${tokens.error?.message}”)` : ''}. Sign in with the admin token, kept in
          <code>${'<data-dir>/admin-token'}</code>.
        </p>`
      : html`${created ? html`<${NewSecret} token=${created} onDone=${() => setCreated(null)} />` : null}
          <${Section} title="Tokens" id="token-list">
            ${tokens.error ? html`<${ErrorText} message=${tokens.error.message} />` : null}
            ${!tokens.loaded
              ? html`<${Loading} what="tokens" />`
              : html`<div class="table-wrap">
                  <table class="table responsive" id="token-table">
                    <caption class="visually-hidden">API tokens</caption>
                    <thead><tr><th scope="col">Name</th><th scope="col">Permission</th><th scope="col">Zones</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                    <tbody>
                      ${list.map((t) => html`<${TokenRow} key=${t.id} token=${t} zones=${zones} onDeleted=${() => void tokens.reload()} />`)}
                    </tbody>
                  </table>
                </div>`}
          <//>
          <${Section} title="Create a token" id="token-new">
            <${CreateToken}
              zones=${zones}
              onCreated=${(t: ApiToken) => {
                setCreated(t);
                void tokens.reload();
              }}
            />
          <//>`}
  </div>`;
}
