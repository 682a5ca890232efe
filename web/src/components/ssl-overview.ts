// SSL/TLS overview: the zone's encryption mode (PATCH settings/ssl), one line on each, and the
// warning that Authenticated Origin Pulls does nothing below Full.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { get, send } from '../api.ts';
import { useAccess, useForm, usePoll } from '../hooks.ts';
import { href } from '../router.ts';
import type { Setting, SslMode, Zone } from '../types.ts';
import { ErrorText, Loading, READ_ONLY_NOTE_ID, Section, describedBy } from './ui.ts';

export const SSL_MODES: { value: SslMode; label: string; line: string }[] = [
  { value: 'off', label: 'Off', line: 'No encryption: visitors and origins are reached over plain HTTP.' },
  { value: 'flexible', label: 'Flexible', line: 'Visitors reach the edge over HTTPS, but the edge talks plain HTTP to your origin.' },
  { value: 'full', label: 'Full', line: 'HTTPS end to end; the edge does not check the origin’s certificate.' },
  { value: 'strict', label: 'Full (strict)', line: 'HTTPS end to end, and the edge verifies the origin’s certificate chain and host name.' },
];

export function aopIneffective(mode: string | undefined): boolean {
  return mode === 'off' || mode === 'flexible';
}

/** The warning shown wherever AOP is configured while the mode is below Full. */
export function AopModeWarning({ mode, zone }: { mode: string | undefined; zone: Zone }) {
  if (!aopIneffective(mode)) return null;
  return html`<p class="banner banner-warn" role="status" id="aop-mode-warning">
    <strong>Authenticated Origin Pulls does nothing in this mode.</strong> The SSL/TLS encryption mode is
    ${' '}<strong>${SSL_MODES.find((m) => m.value === mode)?.label ?? mode}</strong>: the edge reaches origins over plain HTTP and presents no
    client certificate. <a href=${href({ page: 'ssl', zoneId: zone.id })}>Choose Full or Full (strict)</a>.
  </p>`;
}

export function SslOverviewPage({ zone }: { zone: Zone }) {
  const ssl = usePoll((read) => get<Setting>(`/zones/${zone.id}/settings/ssl`, read), [zone.id], null);
  const form = useForm(['value']);
  const access = useAccess();
  // The choice shows at once; it reverts (with the API's message) if the change is refused.
  const [choice, setChoice] = useState<SslMode | null>(null);
  const mode = choice ?? ssl.data?.value;

  async function choose(value: SslMode) {
    if (value === mode || form.busy) return;
    setChoice(value);
    await form.submit(async () => {
      await send('PATCH', `/zones/${zone.id}/settings/ssl`, { value });
      await ssl.reload();
    });
    setChoice(null);
  }

  const error = form.errors.value ?? form.errors.form;
  return html`<div class="page">
    <h1 tabindex="-1">SSL/TLS</h1>
    <p class="lead">How the edge encrypts traffic for ${zone.name}, from visitors to the edge and from the edge to your origin.</p>
    <${Section} title="Encryption mode" id="ssl-mode">
      ${ssl.error ? html`<${ErrorText} message=${ssl.error.message} />` : null}
      ${!ssl.loaded
        ? html`<${Loading} what="the encryption mode" />`
        : html`<fieldset class="mode-list" aria-describedby=${describedBy(error && 'ssl-mode-error', !access.canEdit && READ_ONLY_NOTE_ID)} disabled=${!access.canEdit}>
            <legend>SSL/TLS encryption mode</legend>
            ${SSL_MODES.map(
              (m) => html`<label class=${`mode ${mode === m.value ? 'selected' : ''}`} for=${`ssl-${m.value}`}>
                <input type="radio" name="ssl-mode" id=${`ssl-${m.value}`} value=${m.value} checked=${mode === m.value} onChange=${() => choose(m.value)} aria-describedby=${`ssl-${m.value}-line`} />
                <span class="mode-text">
                  <strong>${m.label}</strong>
                  <span class="muted" id=${`ssl-${m.value}-line`}>${m.line}</span>
                </span>
              </label>`,
            )}
          </fieldset>
          <p class="muted small" role="status" aria-live="polite">${form.busy ? 'Saving…' : ssl.data?.modified_on ? `Current mode: ${SSL_MODES.find((m) => m.value === mode)?.label ?? mode}` : ''}</p>
          <${ErrorText} id="ssl-mode-error" message=${error} />`}
      <${AopModeWarning} mode=${mode} zone=${zone} />
      <p class="muted">
        Authenticated Origin Pulls (the edge presenting a client certificate to your origin) needs <strong>Full</strong> or${' '}
        <strong>Full (strict)</strong>. Set it up under <a href=${href({ page: 'origin', zoneId: zone.id })}>SSL/TLS › Origin Server</a>.
      </p>
    <//>
  </div>`;
}
