// Zone-level Authenticated Origin Pulls: the zone toggle (PUT …/settings {enabled}), "Upload
// certificate", the certificate list with live status and days to expiry, delete, and the guided
// zero-downtime replacement (upload new → wait until active → delete old).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, get, getAll, send, seg } from '../api.ts';
import { certNames } from '../cert-names.ts';
import { formatDate, shortId } from '../format.ts';
import { POLL_MS, errorMessage, useForm, usePoll } from '../hooks.ts';
import type { Association, Certificate, DnsRecord, Effective, Zone } from '../types.ts';
import { CertUpload } from './cert-upload.ts';
import { ErrorText, ExpiryBadge, Loading, Section, StatusBadge, Switch, WriteButton } from './ui.ts';

/** The certificate the edge uses at zone level: the most recently uploaded active one. */
export function zoneCertificateInUse(certs: Certificate[]): Certificate | undefined {
  return certs.filter((c) => c.status === 'active').sort((a, b) => Date.parse(b.uploaded_on) - Date.parse(a.uploaded_on))[0];
}

/** What deleting a zone certificate changes: the hostnames presenting it now, and what they get instead. */
interface DeleteImpact {
  hostnames: string[];
  /** The zone certificate the edge moves to, or null for the installation's global certificate. */
  next: Certificate | null;
}

async function deleteImpact(zone: Zone, cert: Certificate, all: Certificate[]): Promise<DeleteImpact> {
  const [records, assocs] = await Promise.all([
    getAll<DnsRecord>(`/zones/${zone.id}/dns_records`, 5000),
    get<Association[]>(`/zones/${zone.id}/origin_tls_client_auth/hostnames`),
  ]);
  const names = [...new Set([...records.filter((r) => r.proxied).map((r) => r.name), ...assocs.map((a) => a.hostname)])];
  const effective = await Promise.all(names.map((h) => get<Effective>(`/zones/${zone.id}/origin_tls_client_auth/effective/${seg(h)}`)));
  const hostnames = effective.filter((e) => e.level === 'zone' && e.certificate?.id === cert.id).map((e) => e.hostname).sort();
  // The edge presents the newest zone certificate not being deleted (domain/aop-resolve.ts).
  const next = all
    .filter((c) => c.id !== cert.id && c.status !== 'pending_deletion' && c.status !== 'deletion_timed_out' && c.status !== 'deleted')
    .sort((a, b) => Date.parse(b.uploaded_on) - Date.parse(a.uploaded_on))[0] ?? null;
  return { hostnames, next };
}

function DeleteWarning({ cert, impact }: { cert: Certificate; impact: DeleteImpact | null | Error }) {
  if (impact === null) return html`<span class="muted" role="status">Checking which hostnames present it…</span>`;
  if (impact instanceof Error) return html`<span class="error-text">Could not tell which hostnames present it: ${impact.message}</span>`;
  const { hostnames, next } = impact;
  if (hostnames.length === 0) return html`<span>No hostname presents it to its origin now.</span>`;
  const list = html`<strong>${hostnames.join(', ')}</strong>`;
  if (next) {
    return html`<span>The edge then presents <code>${shortId(next.id)}</code> (${certNames(next).commonName}) to the origins of ${list} instead.</span>`;
  }
  return html`<span class="delete-warning" data-field="impact">
    The edge then falls back to the installation’s global certificate for ${list}. An origin that trusts only your CA refuses it, and visitors get
    <strong>525</strong> errors. To change certificates without that, use Replace on <code>${shortId(cert.id)}</code> instead.
  </span>`;
}

type StepState = 'todo' | 'doing' | 'done' | 'failed';

function Step({ n, state, children }: { n: number; state: StepState; children: unknown }) {
  const label = { todo: 'to do', doing: 'in progress', done: 'done', failed: 'failed' }[state];
  return html`<li class=${`step step-${state}`} data-state=${state}>
    <span class="step-mark" aria-hidden="true">${state === 'done' ? '✓' : state === 'failed' ? '✕' : n}</span>
    <span class="step-body">${children} <span class="visually-hidden">(${label})</span></span>
  </li>`;
}

/** Upload new → poll until active → delete old, each step visible. */
function ReplaceFlow({ zone, old, onClose, onChanged }: { zone: Zone; old: Certificate; onClose: () => void; onChanged: () => void }) {
  const base = `/zones/${zone.id}/origin_tls_client_auth`;
  const [fresh, setFresh] = useState<Certificate | null>(null);
  const [phase, setPhase] = useState<'upload' | 'waiting' | 'deleting' | 'done' | 'failed'>('upload');
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (phase !== 'waiting' || !fresh) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const now = await get<Certificate>(`${base}/${fresh.id}`);
        if (stopped) return;
        setFresh(now);
        if (now.status === 'active') {
          setPhase('deleting');
          return;
        }
        if (now.status === 'deployment_timed_out') {
          setProblem(`The new certificate did not become active (deployment timed out), so the old certificate ${old.id} was kept. Check that the edges are running, then delete the old one by hand once the new one is active.`);
          setPhase('failed');
          return;
        }
      } catch (err) {
        if (stopped) return;
        setProblem(`Could not read the new certificate's status: ${errorMessage(err)}`);
        setPhase('failed');
        return;
      }
      if (!stopped) timer = setTimeout(tick, 1000);
    };
    timer = setTimeout(tick, 300);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [phase, fresh?.id]);

  useEffect(() => {
    if (phase !== 'deleting') return;
    send<Certificate>('DELETE', `${base}/${old.id}`).then(
      () => {
        setPhase('done');
        onChanged();
      },
      (err: unknown) => {
        setProblem(`The new certificate is active, but deleting the old one failed: ${err instanceof ApiFailure ? err.message : errorMessage(err)}`);
        setPhase('failed');
      },
    );
  }, [phase]);

  const uploadState: StepState = phase === 'upload' ? 'doing' : 'done';
  const waitState: StepState = phase === 'upload' ? 'todo' : phase === 'waiting' ? 'doing' : fresh?.status === 'active' ? 'done' : 'failed';
  const deleteState: StepState = phase === 'done' ? 'done' : phase === 'deleting' ? 'doing' : phase === 'failed' && fresh?.status === 'active' ? 'failed' : 'todo';

  return html`<div class="replace-flow card-inset" role="region" aria-labelledby="replace-title" id="replace-flow">
    <h3 id="replace-title">Replace certificate <code>${shortId(old.id)}</code> without downtime</h3>
    <ol class="steps" aria-live="polite">
      <${Step} n=${1} state=${uploadState}>Upload the new certificate${fresh ? html` <code>${shortId(fresh.id)}</code>` : ''}<//>
      <${Step} n=${2} state=${waitState}>Wait until the new certificate is active ${fresh && phase !== 'upload' ? html`<${StatusBadge} status=${fresh.status} />` : null}<//>
      <${Step} n=${3} state=${deleteState}>Delete the old certificate <code>${shortId(old.id)}</code><//>
    </ol>
    ${phase === 'upload'
      ? html`<${CertUpload}
          endpoint=${base}
          idPrefix="replace"
          title="New certificate"
          showDone=${false}
          onUploaded=${(cert: Certificate) => {
            setFresh(cert);
            setPhase('waiting');
            onChanged();
          }}
          onClose=${onClose}
        />`
      : null}
    ${problem ? html`<p class="error-text" role="alert">${problem}</p>` : null}
    ${phase === 'done' ? html`<p class="banner banner-ok" role="status">Replaced: the edge now presents <code>${fresh?.id}</code>; the old certificate is being removed.</p>` : null}
    ${phase === 'done' || phase === 'failed' ? html`<div class="actions"><button type="button" class="btn btn-primary" onClick=${onClose}>Close</button></div>` : null}
  </div>`;
}

function CertRow({ cert, all, inUse, enabled, zone, onChanged, onReplace }: { cert: Certificate; all: Certificate[]; inUse: boolean; enabled: boolean; zone: Zone; onChanged: () => void; onReplace: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [impact, setImpact] = useState<DeleteImpact | null | Error>(null);
  const del = useForm();
  useEffect(() => {
    if (!confirming) return;
    let stale = false;
    setImpact(null);
    deleteImpact(zone, cert, all).then(
      (found) => !stale && setImpact(found),
      (err: unknown) => !stale && setImpact(err instanceof Error ? err : new Error(String(err))),
    );
    return () => void (stale = true);
  }, [confirming]);
  const deleting = cert.status === 'pending_deletion' || cert.status === 'deletion_timed_out';
  return html`<tr data-cert-id=${cert.id}>
    <td data-label="Certificate">
      <code title=${cert.id}>${shortId(cert.id)}</code>
      ${inUse ? html` <span class="badge badge-info">${enabled ? 'In use' : 'In use when On'}</span>` : null}
    </td>
    <td data-label="Issuer">${cert.issuer}</td>
    <td data-label="Expires"><${ExpiryBadge} expires=${cert.expires_on} /></td>
    <td data-label="Status"><${StatusBadge} status=${cert.status} /></td>
    <td data-label="Uploaded">${formatDate(cert.uploaded_on)}</td>
    <td data-label="Actions" class="row-actions">
      ${deleting
        ? null
        : confirming
          ? html`<span class="confirm" id=${`delete-confirm-${cert.id}`}>
              Delete ${shortId(cert.id)}? <${DeleteWarning} cert=${cert} impact=${impact} />
              <${WriteButton} kind="danger" busy=${del.busy} onClick=${async () => {
                if (await del.submit(async () => void (await send('DELETE', `/zones/${zone.id}/origin_tls_client_auth/${cert.id}`)))) {
                  setConfirming(false);
                  onChanged();
                }
              }}>Delete<//>
              <button type="button" class="btn btn-secondary" onClick=${() => { setConfirming(false); del.clear(); }}>Cancel</button>
            </span>`
          : html`<${WriteButton} label=${`Replace certificate ${cert.id}`} onClick=${onReplace}>Replace<//>
              <${WriteButton} kind="danger" label=${`Delete certificate ${cert.id}`} onClick=${() => setConfirming(true)}>Delete<//>`}
      <${ErrorText} message=${del.errors.form} />
    </td>
  </tr>`;
}

export function ZoneAop({ zone }: { zone: Zone }) {
  const base = `/zones/${zone.id}/origin_tls_client_auth`;
  const settings = usePoll((read) => get<{ enabled: boolean }>(`${base}/settings`, read), [zone.id], POLL_MS);
  const certs = usePoll((read) => get<Certificate[]>(base, read), [zone.id], POLL_MS);
  const toggle = useForm(['enabled']);
  const [panel, setPanel] = useState<{ kind: 'upload' } | { kind: 'replace'; old: Certificate } | null>(null);
  const list = certs.data ?? [];
  const inUse = zoneCertificateInUse(list);
  const enabled = settings.data?.enabled ?? false;

  async function setEnabled(next: boolean) {
    await toggle.submit(async () => {
      await send('PUT', `${base}/settings`, { enabled: next });
      await settings.reload();
    });
  }

  return html`<${Section}
    title="Zone-level"
    id="aop-zone"
    actions=${panel === null ? html`<${WriteButton} kind="primary" id="zone-upload-open" onClick=${() => setPanel({ kind: 'upload' })}>Upload certificate<//>` : null}
  >
    <p class="muted">
      Your own client certificate for every proxied hostname of ${zone.name}. The most recently uploaded <em>active</em> certificate is the one presented; put the CA
      that signed it on your origin.
    </p>
    ${settings.loaded
      ? html`<${Switch} id="zone-aop-toggle" label="Zone-level Authenticated Origin Pulls" checked=${enabled} busy=${toggle.busy} onChange=${setEnabled} describedBy="zone-aop-toggle-help" />`
      : html`<${Loading} what="the zone-level setting" />`}
    <p class="hint" id="zone-aop-toggle-help">Independent of the global switch: turning one on or off leaves the other as it is.</p>
    <${ErrorText} message=${toggle.errors.enabled ?? toggle.errors.form ?? settings.error?.message} />
    ${enabled && !inUse && certs.loaded
      ? html`<p class="banner banner-info">Zone-level AOP is On but no zone certificate is active yet, so the edge presents the installation's global certificate.</p>`
      : null}

    ${panel?.kind === 'upload'
      ? html`<div class="card-inset"><${CertUpload} endpoint=${base} idPrefix="zone-upload" title="Upload a zone-level certificate" onUploaded=${() => void certs.reload()} onClose=${() => setPanel(null)} /></div>`
      : null}
    ${panel?.kind === 'replace' ? html`<${ReplaceFlow} zone=${zone} old=${panel.old} onClose=${() => setPanel(null)} onChanged=${() => void certs.reload()} />` : null}

    <h3 class="subhead">Certificates</h3>
    ${certs.error ? html`<${ErrorText} message=${certs.error.message} />` : null}
    ${!certs.loaded
      ? html`<${Loading} what="certificates" />`
      : list.length === 0
        ? html`<p class="muted">No zone-level certificate uploaded.</p>`
        : html`<div class="table-wrap">
            <table class="table responsive" id="zone-cert-table">
              <caption class="visually-hidden">Zone-level client certificates</caption>
              <thead><tr><th scope="col">Certificate</th><th scope="col">Issuer</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">Uploaded</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                ${list.map(
                  (c) => html`<${CertRow}
                    key=${c.id}
                    cert=${c}
                    all=${list}
                    zone=${zone}
                    inUse=${inUse?.id === c.id}
                    enabled=${enabled}
                    onChanged=${() => void certs.reload()}
                    onReplace=${() => setPanel({ kind: 'replace', old: c })}
                  />`,
                )}
              </tbody>
            </table>
          </div>`}
  <//>`;
}
