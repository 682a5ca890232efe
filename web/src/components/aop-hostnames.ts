// Per-hostname Authenticated Origin Pulls: hostname certificates (upload, list, delete),
// associations (PUT …/hostnames with enabled true | false | null) and their live status.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, getAll, send } from '../api.ts';
import { certNames } from '../cert-names.ts';
import { colonHex, expiryText, shortId } from '../format.ts';
import { POLL_MS, useAccess, useForm, usePoll } from '../hooks.ts';
import type { Association, Certificate, DnsRecord, Zone } from '../types.ts';
import { CertUpload } from './cert-upload.ts';
import { ErrorText, ExpiryBadge, Loading, Section, StatusBadge, WriteButton, describedBy } from './ui.ts';

const MAX_HOSTNAME_CERTS = 10;

/** Subject, names, expiry and fingerprint: leaves of one CA share the issuer, so these tell them apart. */
function certLabel(c: Certificate): string {
  const names = certNames(c);
  const sans = names.dnsNames.length > 0 && names.dnsNames.join(', ') !== names.commonName ? ` (${names.dnsNames.join(', ')})` : '';
  return `${names.commonName || shortId(c.id)}${sans} · ${expiryText(c.expires_on)} · ${colonHex(c.fingerprint_sha256).slice(0, 11)}…`;
}

/** The certificate's subject, DNS names, id and fingerprint, as one table cell. */
function CertIdentity({ cert }: { cert: Certificate }) {
  const names = certNames(cert);
  return html`<strong data-field="subject">${names.subject || '(no subject)'}</strong>
    <br /><span class="muted small" data-field="names">${names.dnsNames.length > 0 ? names.dnsNames.join(', ') : 'no DNS names'}</span>
    <br /><span class="muted small mono"
      ><code title=${cert.id}>${shortId(cert.id)}</code> · <span data-field="fingerprint" title=${`SHA-256 ${colonHex(cert.fingerprint_sha256)}`}
        >${colonHex(cert.fingerprint_sha256).slice(0, 23)}…</span
      ></span
    >`;
}

function AssociateForm({ zone, certs, hostnames, onDone }: { zone: Zone; certs: Certificate[]; hostnames: string[]; onDone: () => void }) {
  const [hostname, setHostname] = useState('');
  const [certId, setCertId] = useState('');
  const form = useForm(['hostname', 'cert_id']);
  const usable = certs.filter((c) => c.status !== 'pending_deletion' && c.status !== 'deletion_timed_out');
  const chosen = certId !== '' ? certId : (usable[0]?.id ?? '');

  async function onSubmit(e: Event) {
    e.preventDefault();
    if (hostname.trim() === '') {
      form.setError('hostname', 'Enter a hostname of this zone');
      return;
    }
    const ok = await form.submit(async () => {
      await send('PUT', `/zones/${zone.id}/origin_tls_client_auth/hostnames`, { config: [{ hostname: hostname.trim(), cert_id: chosen, enabled: true }] });
    });
    if (ok) {
      setHostname('');
      onDone();
    }
  }

  return html`<form class="inline-form" onSubmit=${onSubmit} aria-label="Associate a hostname" novalidate>
    <div class="field grow">
      <label for="assoc-hostname">Hostname</label>
      <input
        id="assoc-hostname"
        list="assoc-hostname-list"
        value=${hostname}
        autocomplete="off"
        spellcheck="false"
        placeholder=${`app.${zone.name}`}
        onInput=${(e: Event) => setHostname((e.target as HTMLInputElement).value)}
        aria-invalid=${form.errors.hostname ? 'true' : undefined}
        aria-describedby=${describedBy(form.errors.hostname && 'assoc-hostname-error')}
      />
      <datalist id="assoc-hostname-list">${hostnames.map((h) => html`<option value=${h}></option>`)}</datalist>
      <${ErrorText} id="assoc-hostname-error" message=${form.errors.hostname} />
    </div>
    <div class="field grow">
      <label for="assoc-cert">Hostname certificate</label>
      <select
        id="assoc-cert"
        value=${chosen}
        onChange=${(e: Event) => setCertId((e.target as HTMLSelectElement).value)}
        aria-invalid=${form.errors.cert_id ? 'true' : undefined}
        aria-describedby=${describedBy(form.errors.cert_id && 'assoc-cert-error')}
      >
        ${usable.length === 0 ? html`<option value="">Upload a hostname certificate first</option>` : usable.map((c) => html`<option value=${c.id}>${certLabel(c)}</option>`)}
      </select>
      <${ErrorText} id="assoc-cert-error" message=${form.errors.cert_id} />
    </div>
    <${WriteButton} type="submit" kind="primary" busy=${form.busy} disabled=${usable.length === 0}>Associate<//>
    <${ErrorText} message=${form.errors.form} />
  </form>`;
}

function AssociationRow({ a, zone, certs, onChanged }: { a: Association; zone: Zone; certs: Certificate[]; onChanged: () => void }) {
  const form = useForm(['cert_id', 'hostname', 'enabled']);
  const [mode, setMode] = useState<'view' | 'switch' | 'confirm-remove'>('view');
  const [nextCert, setNextCert] = useState('');
  const access = useAccess();
  const others = certs.filter((c) => c.id !== a.cert_id && c.status !== 'pending_deletion' && c.status !== 'deletion_timed_out');
  const put = (item: { cert_id: string; enabled: boolean | null }) =>
    form.submit(async () => {
      await send('PUT', `/zones/${zone.id}/origin_tls_client_auth/hostnames`, { config: [{ hostname: a.hostname, ...item }] });
      onChanged();
    });
  const rowId = `assoc-${a.hostname.replace(/[^a-z0-9]/gi, '-')}`;
  const current = certs.find((c) => c.id === a.cert_id);
  return html`<tr data-hostname=${a.hostname} id=${rowId}>
    <td data-label="Hostname"><strong>${a.hostname}</strong></td>
    <td data-label="Certificate">
      ${current ? html`<strong>${certNames(current).commonName}</strong><br />` : null}<code title=${a.cert_id}>${shortId(a.cert_id)}</code>${a.expires_on ? html`<br /><${ExpiryBadge} expires=${a.expires_on} />` : null}
    </td>
    <td data-label="Enabled">${a.enabled ? html`<span class="badge badge-ok">Enabled</span>` : html`<span class="badge badge-muted">Disabled</span>`}</td>
    <td data-label="Status"><${StatusBadge} status=${a.status} /></td>
    <td data-label="Certificate status">${a.cert_status ? html`<${StatusBadge} status=${a.cert_status} />` : '—'}</td>
    <td data-label="Actions" class="row-actions">
      ${mode === 'confirm-remove'
        ? html`<span class="confirm" id=${`${rowId}-remove-confirm`}>
            Remove the association of ${a.hostname}? The edge then presents the zone-level or global certificate to its origin, or none when those are Off.
            <${WriteButton} kind="danger" busy=${form.busy} onClick=${async () => {
              if (await put({ cert_id: a.cert_id, enabled: null })) setMode('view');
            }}>Remove<//>
            <button type="button" class="btn btn-secondary" onClick=${() => { setMode('view'); form.clear(); }}>Cancel</button>
          </span>`
        : mode === 'switch'
        ? html`<span class="confirm">
            <label for=${`${rowId}-cert`} class="visually-hidden">New certificate for ${a.hostname}</label>
            <select id=${`${rowId}-cert`} value=${nextCert || others[0]?.id || ''} onChange=${(e: Event) => setNextCert((e.target as HTMLSelectElement).value)}>
              ${others.map((c) => html`<option value=${c.id}>${certLabel(c)}</option>`)}
            </select>
            <${WriteButton} kind="primary" busy=${form.busy} disabled=${others.length === 0} onClick=${async () => {
              if (await put({ cert_id: nextCert || others[0].id, enabled: a.enabled ?? true })) setMode('view');
            }}>Apply<//>
            <button type="button" class="btn btn-secondary" onClick=${() => setMode('view')}>Cancel</button>
          </span>`
        : html`<${WriteButton} busy=${form.busy} label=${`${a.enabled ? 'Disable' : 'Enable'} ${a.hostname}`} onClick=${() => put({ cert_id: a.cert_id, enabled: !a.enabled })}>
              ${a.enabled ? 'Disable' : 'Enable'}
            <//>
            <${WriteButton} label=${`Change the certificate of ${a.hostname}`} disabled=${others.length === 0} onClick=${() => setMode('switch')}>Change certificate<//>
            <${WriteButton} kind="danger" busy=${form.busy} label=${`Remove the association of ${a.hostname}`} onClick=${() => setMode('confirm-remove')}>Remove<//>`}
      ${access.canEdit ? html`<${ErrorText} message=${form.errors.form ?? form.errors.cert_id ?? form.errors.hostname ?? form.errors.enabled} />` : null}
    </td>
  </tr>`;
}

function HostnameCertRow({ cert, zone, usedBy, onChanged }: { cert: Certificate; zone: Zone; usedBy: string[]; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const del = useForm();
  const deleting = cert.status === 'pending_deletion' || cert.status === 'deletion_timed_out';
  // A refusal names the hostnames of that moment: once they change, it no longer holds.
  const users = usedBy.join(', ');
  useEffect(() => del.clear(), [users]);
  return html`<tr data-cert-id=${cert.id}>
    <td data-label="Certificate"><${CertIdentity} cert=${cert} /></td>
    <td data-label="Issuer">${cert.issuer}</td>
    <td data-label="Expires"><${ExpiryBadge} expires=${cert.expires_on} /></td>
    <td data-label="Status"><${StatusBadge} status=${cert.status} /></td>
    <td data-label="Hostnames">${usedBy.length === 0 ? html`<span class="muted">none</span>` : usedBy.join(', ')}</td>
    <td data-label="Actions" class="row-actions">
      ${deleting
        ? null
        : confirming
          ? html`<span class="confirm">
              Delete ${certNames(cert).commonName || shortId(cert.id)} (${shortId(cert.id)})?
              <${WriteButton} kind="danger" busy=${del.busy} onClick=${async () => {
                if (await del.submit(async () => void (await send('DELETE', `/zones/${zone.id}/origin_tls_client_auth/hostnames/certificates/${cert.id}`)))) {
                  setConfirming(false);
                  onChanged();
                }
              }}>Delete<//>
              <button type="button" class="btn btn-secondary" onClick=${() => { setConfirming(false); del.clear(); }}>Cancel</button>
            </span>`
          : html`<${WriteButton} kind="danger" label=${`Delete hostname certificate ${cert.id}`} onClick=${() => setConfirming(true)}>Delete<//>`}
      <${ErrorText} message=${del.errors.form} />
    </td>
  </tr>`;
}

export function HostnameAop({ zone, onHostnamesChanged }: { zone: Zone; onHostnamesChanged?: () => void }) {
  const base = `/zones/${zone.id}/origin_tls_client_auth/hostnames`;
  const certs = usePoll((read) => get<Certificate[]>(`${base}/certificates`, read), [zone.id], POLL_MS);
  const assocs = usePoll((read) => get<Association[]>(base, read), [zone.id], POLL_MS);
  const records = usePoll((read) => getAll<DnsRecord>(`/zones/${zone.id}/dns_records`, 5000, read), [zone.id], null);
  const [uploading, setUploading] = useState(false);
  const certList = certs.data ?? [];
  const assocList = (assocs.data ?? []).slice().sort((x, y) => x.hostname.localeCompare(y.hostname));
  const hostnames = [...new Set((records.data ?? []).map((r) => r.name))].sort();
  const changed = () => {
    void assocs.reload();
    void certs.reload();
    onHostnamesChanged?.();
  };

  return html`<${Section}
    title="Per-hostname"
    id="aop-hostname"
    actions=${!uploading ? html`<${WriteButton} kind="primary" id="hostname-upload-open" disabled=${certList.length >= MAX_HOSTNAME_CERTS} onClick=${() => setUploading(true)}>Upload certificate<//>` : null}
  >
    <p class="muted">
      A certificate from your private PKI for specific hostnames. It wins over zone-level and global; a disabled association sends no client certificate
      for that hostname even when zone-level is On. Up to ${MAX_HOSTNAME_CERTS} hostname certificates per zone.
    </p>
    ${uploading
      ? html`<div class="card-inset"><${CertUpload} endpoint=${`${base}/certificates`} idPrefix="hostname-upload" title="Upload a hostname certificate" onUploaded=${() => void certs.reload()} onClose=${() => setUploading(false)} /></div>`
      : null}

    <h3 class="subhead">Hostname certificates</h3>
    ${certs.error ? html`<${ErrorText} message=${certs.error.message} />` : null}
    ${!certs.loaded
      ? html`<${Loading} what="hostname certificates" />`
      : certList.length === 0
        ? html`<p class="muted">No hostname certificate uploaded.</p>`
        : html`<div class="table-wrap">
            <table class="table responsive" id="hostname-cert-table">
              <caption class="visually-hidden">Hostname client certificates</caption>
              <thead><tr><th scope="col">Certificate</th><th scope="col">Issuer</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">Hostnames</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                ${certList.map(
                  (c) => html`<${HostnameCertRow}
                    key=${c.id}
                    cert=${c}
                    zone=${zone}
                    usedBy=${assocList.filter((a) => a.cert_id === c.id).map((a) => a.hostname)}
                    onChanged=${changed}
                  />`,
                )}
              </tbody>
            </table>
          </div>`}

    <h3 class="subhead">Hostnames</h3>
    <${AssociateForm} zone=${zone} certs=${certList} hostnames=${hostnames} onDone=${changed} />
    ${assocs.error ? html`<${ErrorText} message=${assocs.error.message} />` : null}
    ${!assocs.loaded
      ? html`<${Loading} what="associations" />`
      : assocList.length === 0
        ? html`<p class="muted">No hostname is associated with a certificate.</p>`
        : html`<div class="table-wrap">
            <table class="table responsive" id="association-table">
              <caption class="visually-hidden">Hostname associations</caption>
              <thead><tr><th scope="col">Hostname</th><th scope="col">Certificate</th><th scope="col">Association</th><th scope="col">Status</th><th scope="col">Certificate status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                ${assocList.map((a) => html`<${AssociationRow} key=${a.hostname} a=${a} zone=${zone} certs=${certList} onChanged=${changed} />`)}
              </tbody>
            </table>
          </div>`}
  <//>`;
}
