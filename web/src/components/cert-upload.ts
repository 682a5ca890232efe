// "Upload certificate": paste (or choose files for) the certificate and private key, select
// Continue, review the details read in the browser (issuer, serial, expiry, fingerprint…), then
// confirm. Only the confirmation sends anything; an API refusal comes back to the field it names.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, send, seg, type V4Message } from '../api.ts';
import { colonHex, daysLeft, expiryBand, expiryText, formatDate } from '../format.ts';
import { POLL_MS, errorMessage, useForm, usePoll } from '../hooks.ts';
import { PemError, readCertificatePem, readKeyPem, type CertificateSummary, type KeySummary } from '../pem/certificate.ts';
import type { CertStatus, Certificate } from '../types.ts';
import { ErrorText, StatusBadge, WriteButton, describedBy } from './ui.ts';

export interface CertUploadProps {
  /** API path to POST `{certificate, private_key}` to. */
  endpoint: string;
  idPrefix: string;
  title: string;
  /** Called once the API stored the certificate. */
  onUploaded?: (cert: Certificate) => void;
  /** Closes the panel (Cancel, or Done after the upload). */
  onClose: () => void;
  /** Show the "save the certificate ID" step after uploading (default true). */
  showDone?: boolean;
  /**
   * `edge`: a server certificate visitors' browsers see (custom edge certificates) for the names
   * of `zoneName`; default `aop`, a client certificate presented to origins.
   */
  purpose?: 'aop' | 'edge';
  zoneName?: string;
}

/** The names of `dnsNames` a certificate for `zone` serves: the apex, names under it, wildcards under it. */
export function namesInZone(dnsNames: string[], zone: string): string[] {
  const z = zone.toLowerCase();
  return dnsNames.map((n) => n.toLowerCase()).filter((n) => n === z || n.endsWith(`.${z}`));
}

function edgeWarningsFor(cert: CertificateSummary, key: KeySummary, zoneName: string): string[] {
  const out: string[] = [];
  if (cert.isCa) out.push('This is a CA certificate. Visitors need the server certificate issued for your hostnames; put the CA’s intermediates after it, not the CA alone.');
  const served = namesInZone(cert.dnsNames, zoneName);
  if (cert.dnsNames.length === 0) out.push('This certificate names no DNS host (no subjectAltName): browsers will not accept it for any hostname.');
  else if (served.length === 0) out.push(`None of its names is in ${zoneName}: it cannot serve any hostname of this zone.`);
  else if (served.length < cert.dnsNames.length) {
    const others = cert.dnsNames.filter((n) => !served.includes(n.toLowerCase()));
    out.push(`Only the names in ${zoneName} are served; ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} ignored.`);
  }
  if (cert.chainLength === 0 && cert.issuer !== cert.subject) out.push('No intermediate certificate follows the leaf. If your CA issued it through an intermediate, paste that after the leaf, or some browsers will not trust it.');
  if (expiryBand(cert.notAfter) === 'expired') out.push(`This certificate has expired (${formatDate(cert.notAfter)}).`);
  else if (daysLeft(cert.notAfter) < 30) out.push(`This certificate expires soon: ${expiryText(cert.notAfter)}.`);
  if (cert.notBefore.getTime() > Date.now()) out.push(`This certificate is not valid before ${formatDate(cert.notBefore)}.`);
  if (key.encrypted) out.push('The private key is encrypted with a passphrase: upload it unencrypted (e.g. openssl pkey -in key.pem -out plain.pem).');
  return out;
}

function warningsFor(cert: CertificateSummary, key: KeySummary): string[] {
  const out: string[] = [];
  if (cert.isCa) out.push('This is a CA certificate. Authenticated Origin Pulls needs a leaf (client) certificate signed by your CA; the CA itself goes on the origin.');
  if (expiryBand(cert.notAfter) === 'expired') out.push(`This certificate has expired (${formatDate(cert.notAfter)}).`);
  else if (daysLeft(cert.notAfter) < 30) out.push(`This certificate expires soon: ${expiryText(cert.notAfter)}.`);
  if (cert.notBefore.getTime() > Date.now()) out.push(`This certificate is not valid before ${formatDate(cert.notBefore)}.`);
  if (key.encrypted) out.push('The private key is encrypted with a passphrase: upload it unencrypted (e.g. openssl pkey -in key.pem -out plain.pem).');
  return out;
}

/** What the upload answered: an AOP certificate, or a custom edge certificate (its full status in `deployment_status`). */
type Uploaded = Pick<Certificate, 'id'> & { status: string; deployment_status?: CertStatus };

function statusOf(cert: Uploaded): CertStatus {
  return cert.deployment_status ?? (cert.status as CertStatus);
}

/** The new certificate's status as it is now: the POST answered pending_deployment, the edges move on. */
function LiveStatus({ endpoint, cert }: { endpoint: string; cert: Uploaded }) {
  const live = usePoll((read) => get<Uploaded>(`${endpoint}/${seg(cert.id)}`, read), [endpoint, cert.id], POLL_MS);
  return html`<${StatusBadge} status=${statusOf(live.data ?? cert)} />`;
}

export function CertUpload({ endpoint, idPrefix, title, onUploaded, onClose, showDone = true, purpose = 'aop', zoneName = '' }: CertUploadProps) {
  const [step, setStep] = useState<'edit' | 'review' | 'done'>('edit');
  const [certPem, setCertPem] = useState('');
  const [keyPem, setKeyPem] = useState('');
  const [summary, setSummary] = useState<{ cert: CertificateSummary; key: KeySummary } | null>(null);
  const [uploaded, setUploaded] = useState<{ cert: Certificate; messages: V4Message[] } | null>(null);
  const form = useForm(['certificate', 'private_key']);
  const heading = useRef<HTMLHeadingElement>(null);
  const id = (f: string) => `${idPrefix}-${f}`;

  useEffect(() => heading.current?.focus(), [step]);

  async function readFile(e: Event, set: (v: string) => void) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > 64 * 1024) {
      form.setError(input.id.endsWith('key-file') ? 'private_key' : 'certificate', `${file.name} is larger than 64 KiB: that is not a PEM certificate or key`);
      return;
    }
    set(await file.text());
  }

  function onContinue(e: Event) {
    e.preventDefault();
    form.clear();
    let cert: CertificateSummary;
    try {
      cert = readCertificatePem(certPem);
    } catch (err) {
      form.setError('certificate', err instanceof PemError ? err.message : `The certificate cannot be read: ${errorMessage(err)}`);
      return;
    }
    let key: KeySummary;
    try {
      key = readKeyPem(keyPem);
    } catch (err) {
      form.setError('private_key', errorMessage(err));
      return;
    }
    setSummary({ cert, key });
    setStep('review');
  }

  async function onConfirm() {
    const ok = await form.submit(async () => {
      const res = await send<Certificate>('POST', endpoint, { certificate: certPem, private_key: keyPem });
      setUploaded({ cert: res.result, messages: res.messages });
      onUploaded?.(res.result);
    });
    // Without the done step the caller takes over (the replace flow moves on to its next step).
    if (ok && showDone) setStep('done');
  }

  // A refusal that names a field sends the user back to that field.
  useEffect(() => {
    if (step === 'review' && (form.errors.certificate || form.errors.private_key)) setStep('edit');
  }, [form.errors, step]);

  const certError = form.errors.certificate;
  const keyError = form.errors.private_key;

  if (step === 'done' && uploaded) {
    return html`<div class="upload-panel" role="region" aria-labelledby=${id('title')}>
      <h3 id=${id('title')} tabindex="-1" ref=${heading}>Certificate uploaded</h3>
      <p>Save the certificate ID for future reference:</p>
      <p class="cert-id"><code id=${id('new-id')}>${uploaded.cert.id}</code> <${LiveStatus} endpoint=${endpoint} cert=${uploaded.cert} /></p>
      <p class="muted small">
        The status turns <em>active</em> once every edge has applied it${purpose === 'edge' ? ': from then on every edge serves it to visitors' : ''}; the list below updates by itself.
      </p>
      ${uploaded.messages.map((m) => html`<p class="banner banner-warn">${m.message}</p>`)}
      <div class="actions"><button type="button" class="btn btn-primary" onClick=${onClose}>Done</button></div>
    </div>`;
  }

  if (step === 'review' && summary) {
    const c = summary.cert;
    const warnings = purpose === 'edge' ? edgeWarningsFor(c, summary.key, zoneName) : warningsFor(c, summary.key);
    const served = purpose === 'edge' ? namesInZone(c.dnsNames, zoneName) : [];
    return html`<div class="upload-panel" role="region" aria-labelledby=${id('title')}>
      <h3 id=${id('title')} tabindex="-1" ref=${heading}>Review your certificate details</h3>
      <dl class="details" id=${id('review')}>
        <dt>Subject</dt><dd>${c.subject || '(empty)'}</dd>
        <dt>Issuer</dt><dd data-field="issuer">${c.issuer}</dd>
        <dt>Serial number</dt><dd data-field="serial"><code>${c.serialDecimal}</code></dd>
        <dt>Valid from</dt><dd>${formatDate(c.notBefore)}</dd>
        <dt>Expires</dt><dd data-field="expires"><span class=${`expiry expiry-${expiryBand(c.notAfter)}`}>${formatDate(c.notAfter)} · ${expiryText(c.notAfter)}</span></dd>
        <dt>SHA-256 fingerprint</dt><dd data-field="fingerprint"><code class="wrap">${colonHex(c.fingerprintSha256)}</code></dd>
        <dt>Public key</dt><dd>${c.key}</dd>
        <dt>Signature</dt><dd>${c.signature}</dd>
        ${c.dnsNames.length > 0 ? html`<dt>Names</dt><dd data-field="names">${c.dnsNames.join(', ')}</dd>` : null}
        ${purpose === 'edge' ? html`<dt>Serves in ${zoneName}</dt><dd data-field="served">${served.length > 0 ? served.join(', ') : 'no name of this zone'}</dd>` : null}
        <dt>Chain</dt><dd>${c.chainLength === 0 ? 'Leaf certificate only' : `Leaf + ${c.chainLength} intermediate${c.chainLength === 1 ? '' : 's'}`}</dd>
        <dt>Private key</dt><dd>${summary.key.format}, ${summary.key.encrypted ? 'encrypted' : 'not encrypted'} (never shown, stored encrypted)</dd>
      </dl>
      ${warnings.length > 0 ? html`<ul class="banner banner-warn warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>` : null}
      <div class="actions">
        <${WriteButton} kind="primary" busy=${form.busy} onClick=${onConfirm} id=${id('confirm')} describedBy=${form.errors.form ? id('confirm-error') : undefined}>
          ${form.busy ? 'Uploading…' : 'Upload certificate'}
        <//>
        <button type="button" class="btn btn-secondary" onClick=${() => setStep('edit')} disabled=${form.busy}>Back</button>
        <button type="button" class="btn btn-link" onClick=${onClose} disabled=${form.busy}>Cancel</button>
      </div>
      <${ErrorText} id=${id('confirm-error')} message=${form.errors.form} />
    </div>`;
  }

  return html`<form class="upload-panel" onSubmit=${onContinue} aria-labelledby=${id('title')} novalidate>
    <h3 id=${id('title')} tabindex="-1" ref=${heading}>${title}</h3>
    <p class="muted">Paste the certificate and private key, then select Continue. Include the <code>-----BEGIN …-----</code> and <code>-----END …-----</code> lines.</p>
    <div class="pem-fields">
      <div class="field">
        <label for=${id('certificate')}>Certificate (PEM)</label>
        <textarea
          id=${id('certificate')}
          rows="8"
          spellcheck="false"
          placeholder="-----BEGIN CERTIFICATE-----"
          value=${certPem}
          onInput=${(e: Event) => setCertPem((e.target as HTMLTextAreaElement).value)}
          aria-invalid=${certError ? 'true' : undefined}
          aria-describedby=${describedBy(certError && id('certificate-error'))}
        ></textarea>
        <label class="file-label" for=${id('cert-file')}>Or choose a certificate file</label>
        <input type="file" id=${id('cert-file')} accept=".pem,.crt,.cer,.txt,application/x-pem-file" onChange=${(e: Event) => readFile(e, setCertPem)} />
        <${ErrorText} id=${id('certificate-error')} message=${certError} />
      </div>
      <div class="field">
        <label for=${id('private_key')}>Private key (PEM)</label>
        <textarea
          id=${id('private_key')}
          rows="8"
          spellcheck="false"
          autocomplete="off"
          placeholder="-----BEGIN PRIVATE KEY-----"
          value=${keyPem}
          onInput=${(e: Event) => setKeyPem((e.target as HTMLTextAreaElement).value)}
          aria-invalid=${keyError ? 'true' : undefined}
          aria-describedby=${describedBy(keyError && id('private_key-error'))}
        ></textarea>
        <label class="file-label" for=${id('key-file')}>Or choose a key file</label>
        <input type="file" id=${id('key-file')} accept=".pem,.key,.txt" onChange=${(e: Event) => readFile(e, setKeyPem)} />
        <${ErrorText} id=${id('private_key-error')} message=${keyError} />
      </div>
    </div>
    <div class="actions">
      <button type="submit" class="btn btn-primary">Continue</button>
      <button type="button" class="btn btn-secondary" onClick=${onClose}>Cancel</button>
    </div>
    <${ErrorText} message=${form.errors.form} />
  </form>`;
}
