// Notifications: webhook destinations, expiry policies and the delivery log of the zone's account
// (alerting v3 is account-level: /accounts/{account_id}/alerting/v3/…, docs/alerting.md). A token
// limited to zones is refused these with 403, so the page says so instead of showing errors; a
// read-only token sees everything with the change buttons disabled.
import { html } from 'htm/preact';
import { useRef } from 'preact/hooks';
import { get, getAll, seg, type Read } from '../api.ts';
import { usePoll } from '../hooks.ts';
import type { AlertPolicy, AlertWebhook, AvailableAlerts, Zone } from '../types.ts';
import { isAccountRefusal, type NotifyScope } from './notifications-common.ts';
import { DELIVERY_POLL_MS, DeliveriesSection } from './notifications-deliveries.ts';
import { PoliciesSection } from './notifications-policies.ts';
import { WebhooksSection } from './notifications-webhooks.ts';
import { ErrorText, Loading } from './ui.ts';

function ZoneScopedNote({ message }: { message: string }) {
  return html`<div class="card" id="notify-zone-scoped">
    <p class="banner banner-info" role="note">
      <strong>Not available with this token.</strong> Notifications are account-level settings, and this token is limited to specific zones, so the API refuses
      them (“${message}”).
    </p>
    <p>Sign in with a token that covers every zone of the account to see and manage webhook destinations, expiry policies and the delivery log.</p>
    <p class="muted">Certificate expiry stays visible on the Origin Server page: days to expiry turn amber under 30 days, orange under 14 and red once expired.</p>
  </div>`;
}

export function NotificationsPage({ zone }: { zone: Zone }) {
  const base = `/accounts/${seg(zone.account.id)}/alerting/v3`;
  // Once the API refused this token the account's alerting, polling it again cannot help.
  const refused = useRef<{ base: string; failure: Error } | null>(null);
  const load = <T,>(path: string) => async (read: Read): Promise<T> => {
    if (refused.current?.base === base) throw refused.current.failure;
    try {
      return await get<T>(`${base}${path}`, read);
    } catch (err) {
      if (err instanceof Error && isAccountRefusal(err)) refused.current = { base, failure: err };
      throw err;
    }
  };
  // Webhooks carry last_success/last_failure, which deliveries move: refreshed with the log.
  const webhooks = usePoll(load<AlertWebhook[]>('/destinations/webhooks'), [base], DELIVERY_POLL_MS);
  const policies = usePoll(load<AlertPolicy[]>('/policies'), [base], DELIVERY_POLL_MS * 2);
  const alerts = usePoll(load<AvailableAlerts>('/available_alerts'), [base], null);
  const zones = usePoll((read) => getAll<Zone>('/zones', 50, read), [base], null);

  const refusal = [webhooks.error, policies.error, alerts.error].find(isAccountRefusal);
  const accountName = zone.account.name || 'this account';
  const head = html`<h1 tabindex="-1">Notifications</h1>
    <p class="lead">
      Certificate-expiry alerts by webhook for the account <strong>${accountName}</strong>: they cover ${zone.name} and every other zone of the account unless a policy
      names zones.
    </p>`;

  if (refusal) return html`<div class="page">${head}<${ZoneScopedNote} message=${refusal.message} /></div>`;
  const loaded = webhooks.loaded && policies.loaded && alerts.loaded && zones.loaded;
  const failure = webhooks.error ?? policies.error ?? alerts.error;
  if (!loaded || (failure && !webhooks.data)) {
    return html`<div class="page">${head}${failure ? html`<${ErrorText} message=${failure.message} />` : html`<${Loading} what="notifications" />`}</div>`;
  }

  const scope: NotifyScope = {
    base,
    accountName,
    webhooks: webhooks.data ?? [],
    policies: policies.data ?? [],
    alertTypes: Object.values(alerts.data ?? {}).flat(),
    zones: (zones.data ?? []).filter((z) => z.account.id === zone.account.id),
  };
  return html`<div class="page notifications">
    ${head}
    ${failure ? html`<${ErrorText} message=${failure.message} />` : null}
    <${WebhooksSection} scope=${scope} />
    <${PoliciesSection} scope=${scope} />
    <${DeliveriesSection} scope=${scope} />
  </div>`;
}
