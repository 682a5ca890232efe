// What the three parts of the Notifications page share: the account's alerting base path and the
// lists they cross-reference (webhook names in policies and the log, zone names, alert labels),
// plus a labelled checkbox group used for "webhooks to notify" and the zone filter.
import { html } from 'htm/preact';
import { ApiFailure } from '../api.ts';
import type { AlertPolicy, AlertWebhook, AvailableAlert, Zone } from '../types.ts';
import { ErrorText, describedBy } from './ui.ts';

export interface NotifyScope {
  /** `/accounts/{account_id}/alerting/v3` */
  base: string;
  accountName: string;
  webhooks: AlertWebhook[];
  policies: AlertPolicy[];
  alertTypes: AvailableAlert[];
  /** The account's zones, for the zone filter and for naming zones in the log. */
  zones: Zone[];
}

/** Short names for tables; the API's display names are long (the select shows those). */
const SHORT_LABEL: Record<string, string> = {
  zone_aop_custom_certificate_expiration_type: 'Zone-level certificate expiry',
  hostname_aop_custom_certificate_expiration_type: 'Hostname-level certificate expiry',
  aop_expired_certificate_in_use_type: 'Expired certificate still in use',
  custom_ssl_certificate_event_type: 'Edge certificate expiry',
  universal_ssl_event_type: 'Universal SSL expiry or failure',
  dedicated_ssl_certificate_event_type: 'Advanced certificate expiry or failure',
};

export function alertLabel(type: string, types: AvailableAlert[]): string {
  return SHORT_LABEL[type] ?? types.find((t) => t.type === type)?.display_name ?? type;
}

export function alertTitle(type: string, types: AvailableAlert[]): string {
  return types.find((t) => t.type === type)?.display_name ?? type;
}

export function webhookName(id: string, webhooks: AlertWebhook[]): string {
  return webhooks.find((w) => w.id === id)?.name ?? `${id.slice(0, 8)}… (deleted)`;
}

export function zoneName(id: string, zones: Zone[]): string {
  return zones.find((z) => z.id === id)?.name ?? id;
}

/**
 * Alerting is account-level: a token limited to zones is refused every read with 403
 * ("this token is limited to specific zones"). A read-only token's refusals are writes only.
 */
export function isAccountRefusal(err: Error | null): err is ApiFailure {
  return err instanceof ApiFailure && err.status === 403 && !err.isWrite;
}

export interface CheckOption {
  value: string;
  label: string;
  detail?: string;
}

/** A fieldset of checkboxes: keyboard-friendlier than <select multiple>, one label per option. */
export function CheckboxGroup({ id, legend, options, selected, onChange, hint, error, empty }: {
  id: string;
  legend: string;
  options: CheckOption[];
  selected: string[];
  onChange: (next: string[]) => void;
  hint?: string;
  error?: string;
  empty: string;
}) {
  const toggle = (value: string, on: boolean) => onChange(on ? [...selected, value] : selected.filter((v) => v !== value));
  return html`<fieldset class="field check-group" id=${id} aria-describedby=${describedBy(hint && `${id}-hint`, error && `${id}-error`)} aria-invalid=${error ? 'true' : undefined}>
    <legend>${legend}</legend>
    ${options.length === 0
      ? html`<p class="muted small">${empty}</p>`
      : html`<ul class="check-list">
          ${options.map(
            (o) => html`<li>
              <input type="checkbox" id=${`${id}-${o.value}`} checked=${selected.includes(o.value)} onChange=${(e: Event) => toggle(o.value, (e.target as HTMLInputElement).checked)} />
              <label for=${`${id}-${o.value}`}>${o.label}${o.detail ? html` <span class="muted small wrap">${o.detail}</span>` : null}</label>
            </li>`,
          )}
        </ul>`}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    <${ErrorText} id=${`${id}-error`} message=${error} />
  </fieldset>`;
}
