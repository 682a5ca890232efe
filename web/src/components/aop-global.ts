// Global Authenticated Origin Pulls: the zone's `tls_client_auth` setting (PATCH {value}) and the
// installation's origin-pull CA for origins to trust.
import { html } from 'htm/preact';
import { CA_PEM_URL, get, send } from '../api.ts';
import { POLL_MS, useForm, usePoll } from '../hooks.ts';
import type { Setting, Zone } from '../types.ts';
import { ErrorText, Loading, Section, Switch } from './ui.ts';

export function GlobalAop({ zone }: { zone: Zone }) {
  const setting = usePoll((read) => get<Setting>(`/zones/${zone.id}/settings/tls_client_auth`, read), [zone.id], POLL_MS);
  const form = useForm(['value']);
  const on = setting.data?.value === 'on';

  async function change(next: boolean) {
    await form.submit(async () => {
      await send('PATCH', `/zones/${zone.id}/settings/tls_client_auth`, { value: next ? 'on' : 'off' });
      await setting.reload();
    });
  }

  return html`<${Section} title="Global" id="aop-global">
    <p class="muted">
      The edge presents this installation's shared client certificate to the origins of ${zone.name}. It only proves a request came through this
      originpull installation; upload your own certificate below for stricter security.
    </p>
    ${setting.loaded
      ? html`<${Switch} id="global-aop-toggle" label="Authenticated Origin Pulls" checked=${on} busy=${form.busy} onChange=${change} describedBy="global-aop-help" />`
      : html`<${Loading} what="the global setting" />`}
    <p class="hint" id="global-aop-help">Sets the zone's <code>tls_client_auth</code> setting.</p>
    <${ErrorText} message=${form.errors.value ?? form.errors.form ?? setting.error?.message} />
    <p>
      <a class="btn btn-secondary" href=${CA_PEM_URL} download="authenticated_origin_pull_ca.pem" id="ca-download">Download the origin-pull CA (.pem)</a>
    </p>
    <p class="hint">Install it on your origin (e.g. <code>ssl_client_certificate</code> in nginx) so it accepts the edge's global certificate.</p>
  <//>`;
}
