// Notifications (webhook destinations, expiry policies, delivery log) come with issue 5, which is
// not built yet: the page says so instead of pretending.
import { html } from 'htm/preact';
import type { Zone } from '../types.ts';

export function NotificationsPage({ zone }: { zone: Zone }) {
  return html`<div class="page">
    <h1 tabindex="-1">Notifications</h1>
    <div class="card">
      <p><strong>Not available in this version.</strong></p>
      <p>
        Webhook destinations, expiry policies (zone-level and hostname-level Authenticated Origin Pulls certificate expiration alerts, 30 and 14
        days before expiry) and the delivery log are not part of this originpull version, so nothing can be set up here for ${zone.name} yet.
      </p>
      <p class="muted">Until then, the certificate lists on the Origin Server page show days to expiry in amber under 30 days, orange under 14 and red once expired.</p>
    </div>
  </div>`;
}
