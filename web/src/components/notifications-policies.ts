// Expiry policies: which alert type goes to which webhooks, optionally only for some zones.
// List with an On/Off switch per policy, add, edit, delete. The alert types come from the API's
// available_alerts; an API refusal lands beside the field its pointer names.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { send, seg } from '../api.ts';
import { useAccess, useForm } from '../hooks.ts';
import type { AlertPolicy } from '../types.ts';
import { CheckboxGroup, alertLabel, alertTitle, webhookName, zoneName, type NotifyScope } from './notifications-common.ts';
import { ErrorText, READ_ONLY_NOTE_ID, Section, WriteButton, describedBy } from './ui.ts';

// `id` is what `/mechanisms/webhooks/0/id` boils down to; it belongs to the webhooks field.
/** Wire names and their labels (API refusals are told in these words). */
const FIELDS = { name: 'Name', alert_type: 'Alert type', webhooks: 'Webhooks to notify', id: 'Webhook', zones: 'Zones', filters: 'Zones', enabled: 'Enabled', mechanisms: 'Webhooks to notify' };

interface Draft {
  name: string;
  alertType: string;
  webhookIds: string[];
  zones: string[];
  enabled: boolean;
}

function PolicyForm({ scope, policy, idPrefix, onDone, onCancel }: {
  scope: NotifyScope;
  policy?: AlertPolicy;
  idPrefix: string;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const [d, setD] = useState<Draft>({
    name: policy?.name ?? '',
    alertType: policy?.alert_type ?? scope.alertTypes[0]?.type ?? '',
    webhookIds: policy?.mechanisms.webhooks.map((w) => w.id) ?? (scope.webhooks.length === 1 ? [scope.webhooks[0].id] : []),
    zones: policy?.filters.zones ?? [],
    enabled: policy?.enabled ?? true,
  });
  const form = useForm(FIELDS);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const id = (f: string) => `${idPrefix}-${f}`;
  const err = (f: string) => form.errors[f];
  const selected = scope.alertTypes.find((t) => t.type === d.alertType);

  async function onSubmit(e: Event) {
    e.preventDefault();
    const body = {
      name: d.name.trim(),
      alert_type: d.alertType,
      enabled: d.enabled,
      mechanisms: { webhooks: d.webhookIds.map((w) => ({ id: w })) },
      // {} covers every zone of the account (and clears an earlier filter on edit).
      filters: d.zones.length > 0 ? { zones: d.zones } : {},
    };
    const ok = await form.submit(async () => {
      if (policy) await send('PUT', `${scope.base}/policies/${seg(policy.id)}`, body);
      else await send('POST', `${scope.base}/policies`, body);
    });
    if (ok) onDone(`${policy ? 'Saved' : 'Added'} policy “${body.name}”.`);
  }

  const webhookError = err('webhooks') ?? err('id') ?? err('mechanisms');
  const zoneError = err('zones') ?? err('filters');
  return html`<form class="notify-form" onSubmit=${onSubmit} aria-label=${policy ? `Edit policy ${policy.name}` : 'Add a policy'} id=${id('form')}>
    <div class="grid-fields">
      <div class="field span-2">
        <label for=${id('name')}>Name</label>
        <input
          id=${id('name')}
          ref=${first}
          value=${d.name}
          onInput=${(e: Event) => setD({ ...d, name: (e.target as HTMLInputElement).value })}
          autocomplete="off"
          maxlength="256"
          aria-invalid=${err('name') ? 'true' : undefined}
          aria-describedby=${describedBy(err('name') && `${id('name')}-error`)}
        />
        <${ErrorText} id=${`${id('name')}-error`} message=${err('name')} />
      </div>
      <div class="field span-2">
        <label for=${id('alert_type')}>Alert type</label>
        <select
          id=${id('alert_type')}
          value=${d.alertType}
          onChange=${(e: Event) => setD({ ...d, alertType: (e.target as HTMLSelectElement).value })}
          aria-invalid=${err('alert_type') ? 'true' : undefined}
          aria-describedby=${describedBy(`${id('alert_type')}-hint`, err('alert_type') && `${id('alert_type')}-error`)}
        >
          ${scope.alertTypes.map((t) => html`<option value=${t.type}>${t.display_name}</option>`)}
        </select>
        <p class="hint" id=${`${id('alert_type')}-hint`}>${selected?.description ?? ''}</p>
        <${ErrorText} id=${`${id('alert_type')}-error`} message=${err('alert_type')} />
      </div>
    </div>
    <div class="pem-fields">
      <${CheckboxGroup}
        id=${id('webhooks')}
        legend="Webhooks to notify"
        options=${scope.webhooks.map((w) => ({ value: w.id, label: w.name, detail: w.url }))}
        selected=${d.webhookIds}
        onChange=${(next: string[]) => setD({ ...d, webhookIds: next })}
        empty="No webhook yet: add one under Webhook destinations first."
        error=${webhookError}
      />
      <${CheckboxGroup}
        id=${id('zones')}
        legend="Only these zones (optional)"
        options=${scope.zones.map((z) => ({ value: z.id, label: z.name }))}
        selected=${d.zones}
        onChange=${(next: string[]) => setD({ ...d, zones: next })}
        hint="Leave all unchecked to cover every zone of the account, including zones added later."
        empty="This account has no zones."
        error=${zoneError}
      />
    </div>
    <div class="field checkbox-field">
      <input id=${id('enabled')} type="checkbox" checked=${d.enabled} onChange=${(e: Event) => setD({ ...d, enabled: (e.target as HTMLInputElement).checked })} />
      <label for=${id('enabled')}>Enabled</label>
      <${ErrorText} id=${`${id('enabled')}-error`} message=${err('enabled')} />
    </div>
    <div class="actions">
      <${WriteButton} type="submit" kind="primary" busy=${form.busy} id=${id('save')}>${policy ? 'Save policy' : 'Add policy'}<//>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>
      <${ErrorText} message=${form.errors.form} />
    </div>
  </form>`;
}

/** The per-row On/Off switch; its accessible name carries the policy's name. */
function PolicySwitch({ policy, busy, onChange }: { policy: AlertPolicy; busy: boolean; onChange: (next: boolean) => void }) {
  const access = useAccess();
  return html`<button
    type="button"
    class=${`switch ${policy.enabled ? 'on' : 'off'}`}
    role="switch"
    aria-checked=${policy.enabled ? 'true' : 'false'}
    aria-label=${`Policy ${policy.name} enabled`}
    aria-describedby=${!access.canEdit ? READ_ONLY_NOTE_ID : undefined}
    disabled=${!access.canEdit || busy}
    onClick=${() => onChange(!policy.enabled)}
  >
    <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
    <span class="switch-text">${policy.enabled ? 'On' : 'Off'}</span>
  </button>`;
}

function PolicyRow({ scope, policy, onMessage }: { scope: NotifyScope; policy: AlertPolicy; onMessage: (m: string) => void }) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const del = useForm();
  const toggle = useForm();
  const path = `${scope.base}/policies/${seg(policy.id)}`;
  if (mode === 'edit') {
    return html`<tr class="editing" data-policy-id=${policy.id}>
      <td colspan="6">
        <${PolicyForm}
          scope=${scope}
          policy=${policy}
          idPrefix=${`policy-edit-${policy.id}`}
          onCancel=${() => setMode('view')}
          onDone=${(m: string) => {
            setMode('view');
            onMessage(m);
          }}
        />
      </td>
    </tr>`;
  }
  const zones = policy.filters.zones ?? [];
  return html`<tr data-policy-id=${policy.id}>
    <td data-label="Name"><strong>${policy.name}</strong>${policy.description ? html`<br /><span class="muted small">${policy.description}</span>` : null}</td>
    <td data-label="Alert type"><span title=${alertTitle(policy.alert_type, scope.alertTypes)}>${alertLabel(policy.alert_type, scope.alertTypes)}</span></td>
    <td data-label="Webhooks">${policy.mechanisms.webhooks.map((w) => webhookName(w.id, scope.webhooks)).join(', ')}</td>
    <td data-label="Zones">${zones.length === 0 ? html`<span class="muted">All zones</span>` : zones.map((z) => zoneName(z, scope.zones)).join(', ')}</td>
    <td data-label="Enabled">
      <${PolicySwitch}
        policy=${policy}
        busy=${toggle.busy}
        onChange=${(next: boolean) => void toggle.submit(async () => void (await send('PUT', path, { enabled: next })))}
      />
      <${ErrorText} message=${toggle.errors.form} />
    </td>
    <td data-label="Actions" class="row-actions">
      ${mode === 'confirm-delete'
        ? html`<span class="confirm">
            Delete ${policy.name}?
            <${WriteButton} kind="danger" busy=${del.busy} onClick=${async () => {
              if (await del.submit(async () => void (await send('DELETE', path)))) onMessage(`Deleted policy “${policy.name}”; its pending deliveries are cancelled.`);
            }}>Delete<//>
            <button type="button" class="btn btn-secondary" onClick=${() => { setMode('view'); del.clear(); }}>Cancel</button>
          </span>`
        : html`<${WriteButton} label=${`Edit policy ${policy.name}`} onClick=${() => setMode('edit')}>Edit<//>
            <${WriteButton} kind="danger" label=${`Delete policy ${policy.name}`} onClick=${() => setMode('confirm-delete')}>Delete<//>`}
      <${ErrorText} message=${del.errors.form} />
    </td>
  </tr>`;
}

export function PoliciesSection({ scope }: { scope: NotifyScope }) {
  const [adding, setAdding] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const noWebhook = scope.webhooks.length === 0;
  return html`<${Section}
    title="Expiry policies"
    id="notify-policies"
    actions=${adding
      ? null
      : html`<${WriteButton} kind="primary" id="policy-add-open" disabled=${noWebhook} describedBy=${noWebhook ? 'policy-add-hint' : undefined} onClick=${() => { setAdding(true); setMessage(null); }}>Add policy<//>`}
  >
    <p class="muted">
      Zone-level and hostname-level certificates alert once 30 days and once 14 days before they expire; a certificate that is already past a threshold alerts right away, and only once.
    </p>
    ${noWebhook && !adding ? html`<p class="hint" id="policy-add-hint">Add a webhook destination first: policies deliver to webhooks.</p>` : null}
    ${adding
      ? html`<div class="card-inset">
          <h3>Add a policy</h3>
          <${PolicyForm}
            scope=${scope}
            idPrefix="policy-new"
            onCancel=${() => setAdding(false)}
            onDone=${(m: string) => {
              setAdding(false);
              setMessage(m);
            }}
          />
        </div>`
      : null}
    ${message ? html`<p class="banner banner-ok" role="status">${message}</p>` : null}
    ${scope.policies.length === 0
      ? html`<p class="muted">No policy yet: no alert is sent.</p>`
      : html`<div class="table-wrap">
          <table class="table responsive" id="policy-table">
            <caption class="visually-hidden">Expiry policies of ${scope.accountName}</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Alert type</th><th scope="col">Webhooks</th><th scope="col">Zones</th><th scope="col">Enabled</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${scope.policies.map((p) => html`<${PolicyRow} key=${p.id} scope=${scope} policy=${p} onMessage=${setMessage} />`)}
            </tbody>
          </table>
        </div>`}
  <//>`;
}
