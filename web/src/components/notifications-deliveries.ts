// The delivery log (originpull's GET …/alerting/v3/deliveries): the newest deliveries with their
// status, attempts, next retry and last error, refreshed every few seconds, filtered by status.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { request } from '../api.ts';
import { loadToken } from '../session.ts';
import { formatDate, shortId } from '../format.ts';
import { usePoll } from '../hooks.ts';
import type { AlertDelivery, DeliveryStatus } from '../types.ts';
import { alertLabel, alertTitle, webhookName, zoneName, type NotifyScope } from './notifications-common.ts';
import { ErrorText, Loading, Section } from './ui.ts';

/** Often enough to watch a retry land, light enough for a log of 50 rows. */
export const DELIVERY_POLL_MS = 3000;
const PER_PAGE = 50;

const STATUS_TONE: Record<DeliveryStatus, string> = { delivered: 'ok', pending: 'pending', failed: 'bad', cancelled: 'muted' };
const EVENT_TEXT: Record<string, string> = { '30d': '30 days', '14d': '14 days', expired: 'expired' };

function DeliveryRow({ row, scope }: { row: AlertDelivery; scope: NotifyScope }) {
  const retry = row.status === 'pending' && row.next_attempt_at !== null ? formatDate(row.next_attempt_at) : null;
  const lastStatus = row.last_status === null ? null : `HTTP ${row.last_status}`;
  return html`<tr data-delivery-id=${row.id} data-status=${row.status}>
    <td data-label="Alert">
      <span title=${alertTitle(row.alert_type, scope.alertTypes)}>${alertLabel(row.alert_type, scope.alertTypes)}</span>
      <br /><span class="muted small">${zoneName(row.zone_id, scope.zones)} · ${formatDate(row.created_at)}</span>
    </td>
    <td data-label="Certificate"><code title=${row.certificate_id}>${shortId(row.certificate_id)}</code></td>
    <td data-label="Threshold">${EVENT_TEXT[row.event] ?? row.event}</td>
    <td data-label="Webhook">${webhookName(row.webhook_id, scope.webhooks)}</td>
    <td data-label="Status">
      <span class=${`badge badge-${STATUS_TONE[row.status] ?? 'muted'}`} data-status=${row.status}>${row.status}</span>
      ${row.delivered_at ? html`<br /><span class="muted small">${lastStatus ? `${lastStatus} · ` : ''}${formatDate(row.delivered_at)}</span>` : null}
    </td>
    <td data-label="Attempts">${row.attempts}</td>
    <td data-label="Next retry">${retry ?? html`<span class="muted">—</span>`}</td>
    <td data-label="Last error" class="delivery-error">
      ${row.last_error
        ? html`<span class=${row.status === 'cancelled' ? 'muted' : 'text-bad'}>${row.last_error}${lastStatus && row.status !== 'cancelled' ? ` (${lastStatus})` : ''}</span>`
        : html`<span class="muted">—</span>`}
    </td>
  </tr>`;
}

export function DeliveriesSection({ scope }: { scope: NotifyScope }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const log = usePoll(
    async (read) => {
      const q = `page=1&per_page=${PER_PAGE}${status === '' ? '' : `&status=${status}`}`;
      const res = await request<AlertDelivery[]>('GET', `${scope.base}/deliveries?${q}`, undefined, loadToken(), read);
      return { rows: res.result, total: res.result_info?.total_count ?? res.result.length };
    },
    [scope.base, status],
    DELIVERY_POLL_MS,
  );
  const rows = log.data?.rows ?? [];
  const total = log.data?.total ?? 0;
  return html`<${Section}
    title="Delivery log"
    id="notify-deliveries"
    actions=${html`<div class="inline-filter">
      <label for="delivery-status">Status</label>
      <select id="delivery-status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value as DeliveryStatus | '')}>
        <option value="">All</option>
        <option value="pending">Pending</option>
        <option value="delivered">Delivered</option>
        <option value="failed">Failed</option>
        <option value="cancelled">Cancelled</option>
      </select>
    </div>`}
  >
    <p class="muted">
      ${`Every alert, once per certificate, threshold, policy and webhook. Failed sends retry with growing delays for up to 24 hours. Refreshes every ${DELIVERY_POLL_MS / 1000} seconds.`}
    </p>
    ${log.error ? html`<${ErrorText} message=${log.error.message} />` : null}
    ${!log.loaded
      ? html`<${Loading} what="the delivery log" />`
      : rows.length === 0
        ? html`<p class="muted" id="delivery-empty">${status === '' ? 'Nothing sent yet.' : `No ${status} delivery.`}</p>`
        : html`<div class="table-wrap">
            <table class="table responsive delivery-table" id="delivery-table" aria-describedby="delivery-count">
              <caption class="visually-hidden">Alert deliveries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Alert</th><th scope="col">Certificate</th><th scope="col">Threshold</th><th scope="col">Webhook</th>
                  <th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Next retry</th><th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map((r) => html`<${DeliveryRow} key=${r.id} row=${r} scope=${scope} />`)}
              </tbody>
            </table>
          </div>
          <p class="hint" id="delivery-count">${total > rows.length ? `The newest ${rows.length} of ${total} deliveries.` : `${total} ${total === 1 ? 'delivery' : 'deliveries'}.`}</p>`}
  <//>`;
}
