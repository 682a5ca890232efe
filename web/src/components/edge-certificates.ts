// SSL/TLS → Edge Certificates: the certificates visitors' browsers see on HTTPS for the zone's
// hostnames. The table lists one row per certificate with a Type column: certificate packs
// (universal, advanced; components/certificate-packs.ts) and custom certificates. Packs follow the
// Universal SSL switch or are ordered here; custom certificates can be uploaded
// (paste or file, review, save, then their status until active), re-prioritised and deleted with
// a confirmation that says which hostnames lose it and what they get instead. Below, every
// proxied hostname with the certificate that serves it and why (the effective endpoint).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, send, seg } from '../api.ts';
import { afterDelete, deleteImpact, deploymentNote, loadServing, servedBy, servingReason, SERVING_LIMIT, type DeleteImpact, type Serving } from '../edge-cert-serving.ts';
import { colonHex, shortId } from '../format.ts';
import { POLL_MS, useAccess, useForm, usePoll } from '../hooks.ts';
import type { CertificatePack, CustomCertificate, Zone } from '../types.ts';
import { CertUpload } from './cert-upload.ts';
import { acmeNotConfigured, OrderAdvanced, PackRow, UniversalSslSetting } from './certificate-packs.ts';
import { ErrorText, ExpiryBadge, Loading, Section, StatusBadge, WriteButton } from './ui.ts';

/** Hostnames change less often than statuses: re-asked on this beat and after every change made here. */
const SERVING_POLL_MS = 5000;

function CertStatusCell({ cert }: { cert: CustomCertificate }) {
  if (cert.status === 'expired') return html`<span class="badge badge-bad" data-status="expired">expired</span>`;
  return html`<${StatusBadge} status=${cert.deployment_status ?? (cert.status === 'active' ? 'active' : 'pending_deployment')} />`;
}

function DeleteConfirm({ zone, cert, impact, onDone, onCancel }: { zone: Zone; cert: CustomCertificate; impact: DeleteImpact | null | Error; onDone: () => void; onCancel: () => void }) {
  const del = useForm();
  let body;
  if (impact === null) body = html`<p class="muted" role="status">Checking which hostnames it serves…</p>`;
  else if (impact instanceof Error) body = html`<p class="error-text">Could not tell which hostnames it serves: ${impact.message}</p>`;
  else if (impact.changes.length === 0) body = html`<p data-field="impact">No proxied hostname is served this certificate now; deleting it changes nothing for visitors.</p>`;
  else {
    const names = impact.changes.map((c) => c.hostname);
    body = html`<div class="delete-warning" data-field="impact">
      <p>It is in use: visitors to <strong>${names.join(', ')}</strong> get it now. Once every edge applies the deletion:</p>
      <ul>${impact.changes.map((c) => html`<li data-hostname=${c.hostname} data-next=${c.next.source}>${afterDelete(c)}</li>`)}</ul>
    </div>`;
  }
  return html`<div class="edge-delete card-inset" id=${`edge-delete-confirm-${cert.id}`} role="alertdialog" aria-labelledby=${`edge-delete-title-${cert.id}`}>
    <p id=${`edge-delete-title-${cert.id}`}><strong>Delete custom certificate <code>${shortId(cert.id)}</code> (${cert.hosts.join(', ')})?</strong></p>
    ${body}
    <div class="actions">
      <${WriteButton}
        kind="danger"
        busy=${del.busy}
        disabled=${impact === null}
        onClick=${async () => {
          if (await del.submit(async () => void (await send('DELETE', `/zones/${zone.id}/custom_certificates/${seg(cert.id)}`)))) onDone();
        }}
      >Delete certificate<//>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorText} message=${del.errors.form} />
  </div>`;
}

function PriorityEditor({ zone, cert, onDone }: { zone: Zone; cert: CustomCertificate; onDone: () => void }) {
  const [value, setValue] = useState(String(cert.priority));
  const form = useForm({ priority: 'Priority' });
  const id = `edge-priority-${cert.id}`;
  async function save(e: Event) {
    e.preventDefault();
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
      form.setError('priority', 'Priority must be a whole number, 0 or more.');
      return;
    }
    if (await form.submit(async () => void (await send('PUT', `/zones/${zone.id}/custom_certificates/prioritize`, { certificates: [{ id: cert.id, priority: n }] })))) onDone();
  }
  const error = form.errors.priority ?? form.errors.form;
  return html`<form class="inline-form" onSubmit=${save} novalidate>
    <label for=${id}>Priority</label>
    <input id=${id} type="number" min="0" step="1" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined} />
    <${WriteButton} type="submit" kind="primary" busy=${form.busy} label=${`Save priority of ${cert.id}`}>Save<//>
    <button type="button" class="btn btn-secondary" onClick=${onDone}>Cancel</button>
    <${ErrorText} id=${`${id}-error`} message=${error} />
  </form>`;
}

function CustomCertRow({ zone, cert, servedHere, onChanged }: { zone: Zone; cert: CustomCertificate; servedHere: string[]; onChanged: () => void }) {
  const access = useAccess();
  const [mode, setMode] = useState<'view' | 'priority' | 'delete'>('view');
  const [impact, setImpact] = useState<DeleteImpact | null | Error>(null);
  useEffect(() => {
    if (mode !== 'delete') return;
    let stale = false;
    setImpact(null);
    // Fresh answers, not the last poll's: the confirmation must say what happens now.
    loadServing(zone.id)
      .then((now) => deleteImpact(zone.id, cert.id, now))
      .then(
        (found) => !stale && setImpact(found),
        (err: unknown) => !stale && setImpact(err instanceof Error ? err : new Error(String(err))),
      );
    return () => void (stale = true);
  }, [mode]);
  const deleting = cert.deployment_status === 'pending_deletion' || cert.deployment_status === 'deletion_timed_out';
  return html`<tr data-cert-id=${cert.id}>
      <td data-label="Certificate">
        <code title=${cert.id}>${shortId(cert.id)}</code>
        ${servedHere.length > 0 ? html` <span class="badge badge-info" title=${servedHere.join(', ')}>In use</span>` : null}
      </td>
      <td data-label="Type">Custom</td>
      <td data-label="Hosts" data-field="hosts">${cert.hosts.join(', ')}</td>
      <td data-label="Status"><${CertStatusCell} cert=${cert} /></td>
      <td data-label="Expires"><${ExpiryBadge} expires=${cert.expires_on} /></td>
      <td data-label="Priority" data-field="priority">${cert.priority}</td>
      <td data-label="Issuer">${cert.issuer}</td>
      <td data-label="SHA-256 fingerprint"><code class="wrap small" title=${colonHex(cert.fingerprint_sha256)}>${colonHex(cert.fingerprint_sha256).slice(0, 23)}…</code></td>
      <td data-label="Actions" class="row-actions">
        ${access.canEdit && !deleting && mode === 'view'
          ? html`<${WriteButton} label=${`Edit priority of ${cert.id}`} onClick=${() => setMode('priority')}>Edit priority<//>
              <${WriteButton} kind="danger" label=${`Delete certificate ${cert.id}`} onClick=${() => setMode('delete')}>Delete<//>`
          : null}
      </td>
    </tr>
    ${mode === 'priority'
      ? html`<tr class="row-detail"><td colspan="9"><${PriorityEditor} zone=${zone} cert=${cert} onDone=${() => { setMode('view'); onChanged(); }} /></td></tr>`
      : null}
    ${mode === 'delete'
      ? html`<tr class="row-detail"><td colspan="9"><${DeleteConfirm} zone=${zone} cert=${cert} impact=${impact} onCancel=${() => setMode('view')} onDone=${() => { setMode('view'); onChanged(); }} /></td></tr>`
      : null}`;
}

function ServingTable({ serving }: { serving: Serving }) {
  if (serving.hostnames.length === 0 && serving.wildcards.length === 0) return html`<p class="muted">No proxied hostname yet: add one under Proxied hostnames.</p>`;
  return html`<div class="table-wrap">
      <table class="table responsive" id="edge-serving-table">
        <caption class="visually-hidden">Which certificate each proxied hostname serves to visitors</caption>
        <thead><tr><th scope="col">Hostname</th><th scope="col">Visitors get</th><th scope="col">Why</th></tr></thead>
        <tbody>
          ${serving.hostnames.map((e) => {
            const note = deploymentNote(e);
            return html`<tr data-hostname=${e.hostname} data-source=${e.source} data-cert-id=${e.certificate?.id ?? ''}>
              <td data-label="Hostname"><strong>${e.hostname}</strong></td>
              <td data-label="Visitors get" data-field="served-by">
                ${e.source === 'custom' || e.source === 'acme' ? servedBy(e) : html`<span class=${e.source === 'none' ? 'error-text' : 'warn-text'}>${servedBy(e)}</span>`}
              </td>
              <td data-label="Why">${servingReason(e)}${note ? html` <span class="muted">${note}</span>` : null}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${serving.omitted > 0 ? html`<p class="muted small">The first ${SERVING_LIMIT} hostnames are shown; ${serving.omitted} more are not.</p>` : null}
    ${serving.wildcards.length > 0
      ? html`<p class="muted small">Wildcard records (${serving.wildcards.join(', ')}) serve whichever certificate covers the name a visitor asks for.</p>`
      : null}`;
}

export function EdgeCertificatesPage({ zone }: { zone: Zone }) {
  const base = `/zones/${zone.id}/custom_certificates`;
  const access = useAccess();
  const certs = usePoll((read) => get<CustomCertificate[]>(`${base}?per_page=1000`, read), [zone.id], POLL_MS);
  const serving = usePoll((read) => loadServing(zone.id, read), [zone.id], SERVING_POLL_MS);
  const packs = usePoll((read) => get<CertificatePack[]>(`/zones/${zone.id}/ssl/certificate_packs?per_page=1000`, read), [zone.id], POLL_MS);
  const [uploading, setUploading] = useState(false);
  const [ordering, setOrdering] = useState(false);
  const packList = [...(packs.data ?? [])].sort((a, b) => (a.type === b.type ? Date.parse(a.created_on) - Date.parse(b.created_on) : a.type === 'advanced' ? -1 : 1));
  const list = [...(certs.data ?? [])].sort((a, b) => b.priority - a.priority || Date.parse(b.uploaded_on) - Date.parse(a.uploaded_on));
  const usersOf = new Map<string, string[]>();
  for (const e of serving.data?.hostnames ?? []) {
    if (!e.certificate) continue;
    const names = usersOf.get(e.certificate.id) ?? [];
    names.push(e.hostname);
    usersOf.set(e.certificate.id, names);
  }
  const reload = () => {
    void certs.reload();
    void packs.reload();
    void serving.reload();
  };

  return html`<div class="page">
    <h1 tabindex="-1">Edge Certificates</h1>
    <p class="lead">The certificates visitors’ browsers see when they reach ${zone.name} over HTTPS.</p>
    <${Section}
      title="Certificates"
      id="edge-certs"
      actions=${access.canEdit
        ? html`${!uploading ? html`<${WriteButton} kind="primary" id="edge-upload-open" onClick=${() => setUploading(true)}>Upload custom certificate<//>` : null}
          ${!ordering ? html` <${WriteButton} id="pack-order-open" onClick=${() => setOrdering(true)}>Order advanced certificate<//>` : null}`
        : null}
    >
      <${UniversalSslSetting} zone=${zone} onChanged=${reload} />
      ${acmeNotConfigured(packList)
        ? html`<p class="warn-text" id="acme-not-configured" role="status">
            ACME is not configured on this installation: no certificate pack can be issued, and hostnames are served a custom certificate or the edge CA
            fallback. The operator sets an ACME directory (ORIGINPULL_ACME_DIRECTORY or --acme-directory) for packs to be ordered.
          </p>`
        : null}
      <p class="muted">
        A custom certificate serves the names of its subjectAltName within ${zone.name}. Where several cover a hostname, one naming it exactly beats a wildcard, then the
        higher priority, then the newest upload.
      </p>
      ${uploading
        ? html`<div class="card-inset">
            <${CertUpload}
              endpoint=${base}
              idPrefix="edge-upload"
              title="Upload a custom certificate"
              purpose="edge"
              zoneName=${zone.name}
              onUploaded=${reload}
              onClose=${() => setUploading(false)}
            />
          </div>`
        : null}
      ${ordering
        ? html`<div class="card-inset">
            <${OrderAdvanced} zone=${zone} onOrdered=${reload} onClose=${() => setOrdering(false)} />
          </div>`
        : null}
      ${certs.error ? html`<${ErrorText} message=${certs.error.message} />` : null}
      ${packs.error ? html`<${ErrorText} message=${packs.error.message} />` : null}
      ${!certs.loaded || !packs.loaded
        ? html`<${Loading} what="certificates" />`
        : list.length === 0 && packList.length === 0
          ? html`<p class="muted" id="edge-certs-empty">No certificate pack and no custom certificate: visitors get the edge CA fallback (if it is on) or a TLS error.</p>`
          : html`<div class="table-wrap">
              <table class="table responsive" id="edge-cert-table">
                <caption class="visually-hidden">Edge certificates of ${zone.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Certificate</th><th scope="col">Type</th><th scope="col">Hosts</th><th scope="col">Status</th><th scope="col">Expires</th>
                    <th scope="col">Priority</th><th scope="col">Issuer</th><th scope="col">Fingerprint</th><th scope="col"><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${packList.map(
                    (p) => html`<${PackRow} key=${p.id} zone=${zone} pack=${p} servedHere=${usersOf.get(p.id) ?? []} onChanged=${reload} />`,
                  )}
                  ${list.map(
                    (c) => html`<${CustomCertRow} key=${c.id} zone=${zone} cert=${c} servedHere=${usersOf.get(c.id) ?? []} onChanged=${reload} />`,
                  )}
                </tbody>
              </table>
            </div>`}
    <//>
    <${Section} title="Which certificate each hostname serves" id="edge-serving">
      ${serving.error ? html`<${ErrorText} message=${serving.error.message} />` : null}
      ${!serving.loaded ? html`<${Loading} what="the proxied hostnames" />` : serving.data ? html`<${ServingTable} serving=${serving.data} />` : null}
    <//>
  </div>`;
}
