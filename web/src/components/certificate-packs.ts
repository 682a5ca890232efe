// Certificate packs on SSL/TLS → Edge Certificates: the certificates the installation orders from
// its ACME CA. Universal packs follow the proxied records while Universal SSL is on (the toggle
// here turns it off after saying what visitors get instead); advanced packs are ordered here and
// can be deleted, with a warning naming the hostnames that are served the pack now. A pack's
// status carries the CA's own error text (`validation_errors`), so a refused validation or an
// installation without an ACME directory reads as such on the row.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, send, seg } from '../api.ts';
import { loadServing } from '../edge-cert-serving.ts';
import { colonHex, shortId } from '../format.ts';
import { POLL_MS, useAccess, useForm, usePoll } from '../hooks.ts';
import type { CertificatePack, Zone } from '../types.ts';
import { ErrorText, ExpiryBadge, Switch, WriteButton } from './ui.ts';

/** The prefix of the message packs carry while no ACME directory is configured. */
const NOT_CONFIGURED = 'ACME not configured';
const VALIDITY_DAYS = [90, 30, 14, 365] as const;

type PackStatus = CertificatePack['status'];

const PACK_STATUS_TEXT: Partial<Record<PackStatus, string>> = {
  initializing: 'Initializing',
  pending_validation: 'Pending validation',
  pending_issuance: 'Pending issuance',
  pending_deployment: 'Pending deployment',
  active: 'Active',
  expired: 'Expired',
  pending_deletion: 'Pending deletion',
  validation_timed_out: 'Validation failed',
  issuance_timed_out: 'Issuance failed',
  deployment_timed_out: 'Deployment timed out',
  deletion_timed_out: 'Deletion timed out',
};

function tone(status: PackStatus): string {
  if (status === 'active') return 'ok';
  if (status === 'expired' || status.endsWith('timed_out')) return 'bad';
  return 'pending';
}

export function packTypeText(pack: CertificatePack): string {
  return pack.type === 'universal' ? 'Universal' : 'Advanced';
}

/** True when any pack says the installation has no ACME directory. */
export function acmeNotConfigured(packs: readonly CertificatePack[]): boolean {
  return packs.some((p) => p.validation_errors.some((e) => e.message.startsWith(NOT_CONFIGURED)));
}

function PackStatusCell({ pack }: { pack: CertificatePack }) {
  // An error stalls the order (a CA refusal waits for its retry, no directory waits for the
  // operator): no spinner then, the error below says what is wrong.
  const stalled = pack.validation_errors.length > 0 && pack.certificates.length === 0;
  const t = stalled ? 'bad' : tone(pack.status);
  return html`<span class=${`badge badge-${t}`} data-status=${pack.status}>
      ${t === 'pending' ? html`<span class="spinner" aria-hidden="true"></span>` : null}${PACK_STATUS_TEXT[pack.status] ?? pack.status}
    </span>
    ${pack.validation_errors.map((e) => html`<p class="error-text small" data-field="validation-error">${e.message}</p>`)}`;
}

function PackDeleteConfirm({ zone, pack, onDone, onCancel }: { zone: Zone; pack: CertificatePack; onDone: () => void; onCancel: () => void }) {
  const del = useForm();
  const [users, setUsers] = useState<string[] | null | Error>(null);
  useEffect(() => {
    let stale = false;
    // Fresh answers, not the last poll's: the warning must say what is served now.
    loadServing(zone.id).then(
      (s) => !stale && setUsers(s.hostnames.filter((e) => e.source === 'acme' && e.certificate?.id === pack.id).map((e) => e.hostname)),
      (err: unknown) => !stale && setUsers(err instanceof Error ? err : new Error(String(err))),
    );
    return () => void (stale = true);
  }, [pack.id]);
  let body;
  if (users === null) body = html`<p class="muted" role="status">Checking which hostnames it serves…</p>`;
  else if (users instanceof Error) body = html`<p class="error-text">Could not tell which hostnames it serves: ${users.message}</p>`;
  else if (users.length === 0) body = html`<p data-field="impact">No proxied hostname is served this pack now; deleting it changes nothing for visitors.</p>`;
  else {
    body = html`<div class="delete-warning" data-field="impact">
      <p>It is in use: visitors to <strong>${users.join(', ')}</strong> get it now.</p>
      <p>Once every edge applies the deletion they get a custom certificate or another pack that covers them, else the edge CA fallback (if it is on), else a TLS error.</p>
    </div>`;
  }
  return html`<div class="edge-delete card-inset" id=${`pack-delete-confirm-${pack.id}`} role="alertdialog" aria-labelledby=${`pack-delete-title-${pack.id}`}>
    <p id=${`pack-delete-title-${pack.id}`}><strong>Delete advanced certificate pack <code>${shortId(pack.id)}</code> (${pack.hosts.join(', ')})?</strong></p>
    ${body}
    <div class="actions">
      <${WriteButton}
        kind="danger"
        busy=${del.busy}
        disabled=${users === null}
        onClick=${async () => {
          if (await del.submit(async () => void (await send('DELETE', `/zones/${zone.id}/ssl/certificate_packs/${seg(pack.id)}`)))) onDone();
        }}
      >Delete pack<//>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorText} message=${del.errors.form} />
  </div>`;
}

/** One pack as a row of the certificates table (same columns as the custom certificates). */
export function PackRow({ zone, pack, servedHere, onChanged }: { zone: Zone; pack: CertificatePack; servedHere: string[]; onChanged: () => void }) {
  const access = useAccess();
  const [deleting, setDeleting] = useState(false);
  const cert = pack.certificates[0];
  const canDelete = access.canEdit && pack.type === 'advanced' && pack.status !== 'pending_deletion' && pack.status !== 'deletion_timed_out' && !deleting;
  return html`<tr data-pack-id=${pack.id} data-pack-type=${pack.type}>
      <td data-label="Certificate">
        <code title=${pack.id}>${shortId(pack.id)}</code>
        ${servedHere.length > 0 ? html` <span class="badge badge-info" title=${servedHere.join(', ')}>In use</span>` : null}
      </td>
      <td data-label="Type" data-field="type">${packTypeText(pack)}</td>
      <td data-label="Hosts" data-field="hosts">${pack.hosts.join(', ')}</td>
      <td data-label="Status" data-field="status"><${PackStatusCell} pack=${pack} /></td>
      <td data-label="Expires" data-field="expires">${cert ? html`<${ExpiryBadge} expires=${cert.expires_on} />` : html`<span class="muted">—</span>`}</td>
      <td data-label="Priority"><span class="muted" title="Packs serve a hostname only when no custom certificate covers it">—</span></td>
      <td data-label="Issuer">${cert ? cert.issuer : html`<span class="muted">ACME CA (${pack.validity_days} days)</span>`}</td>
      <td data-label="SHA-256 fingerprint">
        ${cert ? html`<code class="wrap small" title=${colonHex(cert.fingerprint_sha256)}>${colonHex(cert.fingerprint_sha256).slice(0, 23)}…</code>` : html`<span class="muted">—</span>`}
      </td>
      <td data-label="Actions" class="row-actions">
        ${canDelete ? html`<${WriteButton} kind="danger" label=${`Delete certificate pack ${pack.id}`} onClick=${() => setDeleting(true)}>Delete<//>` : null}
      </td>
    </tr>
    ${deleting
      ? html`<tr class="row-detail"><td colspan="9"><${PackDeleteConfirm} zone=${zone} pack=${pack} onCancel=${() => setDeleting(false)} onDone=${() => { setDeleting(false); onChanged(); }} /></td></tr>`
      : null}`;
}

/** The Universal SSL switch; turning it off first says what visitors get instead. */
export function UniversalSslSetting({ zone, onChanged }: { zone: Zone; onChanged: () => void }) {
  const path = `/zones/${zone.id}/ssl/universal/settings`;
  const setting = usePoll((read) => get<{ enabled: boolean }>(path, read), [zone.id], POLL_MS * 4);
  const form = useForm();
  const [confirming, setConfirming] = useState(false);
  async function apply(enabled: boolean) {
    if (await form.submit(async () => void (await send('PATCH', path, { enabled })))) {
      setConfirming(false);
      await setting.reload();
      onChanged();
    }
  }
  if (!setting.loaded) return html`<p class="muted">Loading the Universal SSL setting…</p>`;
  const enabled = setting.data?.enabled ?? true;
  return html`<div class="universal-ssl" id="universal-ssl">
    <${Switch}
      id="universal-ssl-switch"
      label="Universal SSL"
      checked=${enabled}
      busy=${form.busy}
      describedBy="universal-ssl-help"
      onChange=${(next: boolean) => (next ? void apply(true) : setConfirming(true))}
    />
    <p class="muted small" id="universal-ssl-help">
      While on, every proxied hostname of ${zone.name} gets a certificate from the installation’s ACME CA (a universal pack). A custom certificate covering a hostname still wins.
    </p>
    ${confirming
      ? html`<div class="card-inset delete-warning" role="alertdialog" id="universal-ssl-confirm" aria-labelledby="universal-ssl-confirm-title">
          <p id="universal-ssl-confirm-title"><strong>Turn Universal SSL off for ${zone.name}?</strong></p>
          <p>
            Its universal certificate packs are deleted. Hostnames fall back to a custom certificate or an advanced pack that covers them, else to the installation’s edge CA
            certificate (if the fallback is on, which browsers warn about), else visitors get a TLS error.
          </p>
          <div class="actions">
            <${WriteButton} kind="danger" busy=${form.busy} onClick=${() => void apply(false)}>Turn Universal SSL off<//>
            <button type="button" class="btn btn-secondary" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>
        </div>`
      : null}
    <${ErrorText} message=${form.errors.form ?? setting.error?.message} />
  </div>`;
}

/** Order an advanced certificate pack: hosts of the zone, validity, challenge type. */
export function OrderAdvanced({ zone, onOrdered, onClose }: { zone: Zone; onOrdered: (pack: CertificatePack) => void; onClose: () => void }) {
  const [hosts, setHosts] = useState('');
  const [days, setDays] = useState('90');
  const [method, setMethod] = useState('http');
  const form = useForm({ hosts: 'Hosts', validity_days: 'Validity', validation_method: 'Validation method' });
  async function order(e: Event) {
    e.preventDefault();
    const names = hosts.split(/[\s,]+/).filter((h) => h !== '');
    if (names.length === 0) {
      form.setError('hosts', `Name at least one hostname of ${zone.name}.`);
      return;
    }
    const out: { pack?: CertificatePack } = {};
    const done = await form.submit(async () => {
      out.pack = (await send<CertificatePack>('POST', `/zones/${zone.id}/ssl/certificate_packs/order`, {
        type: 'advanced',
        hosts: names,
        validation_method: method,
        validity_days: Number(days),
        certificate_authority: 'lets_encrypt',
      })).result;
    });
    if (done && out.pack) {
      setHosts('');
      onOrdered(out.pack);
    }
  }
  const hostsError = form.errors.hosts;
  return html`<form class="pack-order" id="pack-order" onSubmit=${order} novalidate aria-labelledby="pack-order-title">
    <h3 id="pack-order-title">Order an advanced certificate</h3>
    <label for="pack-order-hosts">Hostnames (one per line or comma separated)</label>
    <textarea
      id="pack-order-hosts"
      rows="3"
      placeholder=${`www.${zone.name}\nshop.${zone.name}`}
      value=${hosts}
      onInput=${(e: Event) => setHosts((e.target as HTMLTextAreaElement).value)}
      aria-invalid=${hostsError ? 'true' : undefined}
      aria-describedby=${hostsError ? 'pack-order-hosts-error' : undefined}
    ></textarea>
    <${ErrorText} id="pack-order-hosts-error" message=${hostsError} />
    <label for="pack-order-validity">Validity</label>
    <select id="pack-order-validity" value=${days} onChange=${(e: Event) => setDays((e.target as HTMLSelectElement).value)}>
      ${VALIDITY_DAYS.map((d) => html`<option value=${String(d)}>${d} days</option>`)}
    </select>
    <${ErrorText} message=${form.errors.validity_days} />
    <label for="pack-order-method">Validation</label>
    <select id="pack-order-method" value=${method} onChange=${(e: Event) => setMethod((e.target as HTMLSelectElement).value)}>
      <option value="http">HTTP-01 (every edge answers on port 80)</option>
      <option value="tls-alpn">TLS-ALPN-01 (on the HTTPS listener)</option>
    </select>
    <${ErrorText} message=${form.errors.validation_method} />
    <div class="actions">
      <${WriteButton} type="submit" kind="primary" busy=${form.busy} id="pack-order-submit">Order certificate<//>
      <button type="button" class="btn btn-secondary" onClick=${onClose}>Close</button>
    </div>
    <${ErrorText} message=${form.errors.form} />
  </form>`;
}
