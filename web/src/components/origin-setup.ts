// Origin set-up help: the configuration to paste for nginx, Apache, HAProxy, Caddy or Traefik, in
// the two phases the docs describe (accept and log, then enforce). The text comes from the same
// pure generators as `originpull origin-config` (src/origin/config), bundled into the page.
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import { renderOriginConfig, type OriginServer, type Phase } from '../../../src/origin/config/index.ts';
import { CA_PEM_URL, getAll } from '../api.ts';
import { errorMessage, usePoll } from '../hooks.ts';
import { href } from '../router.ts';
import type { DnsRecord, Zone } from '../types.ts';
import { ErrorText } from './ui.ts';

const SERVERS: { id: OriginServer; label: string; caFile: string }[] = [
  { id: 'nginx', label: 'NGINX', caFile: '/etc/nginx/certs/origin-pull-ca.pem' },
  { id: 'apache', label: 'Apache', caFile: '/etc/apache2/certs/origin-pull-ca.pem' },
  { id: 'haproxy', label: 'HAProxy', caFile: '/etc/haproxy/certs/origin-pull-ca.pem' },
  { id: 'caddy', label: 'Caddy', caFile: '/etc/caddy/certs/origin-pull-ca.pem' },
  { id: 'traefik', label: 'Traefik', caFile: '/etc/traefik/certs/origin-pull-ca.pem' },
];

const PHASE_TEXT: Record<Phase, { title: string; line: string }> = {
  log: { title: 'Phase 1 — accept and log', line: 'The origin asks for a client certificate, still serves requests without one, and logs the verification result.' },
  enforce: { title: 'Phase 2 — enforce', line: 'The origin refuses every connection without a client certificate signed by your CA.' },
};

export function OriginSetup({ zone }: { zone: Zone }) {
  const records = usePoll((read) => getAll<DnsRecord>(`/zones/${zone.id}/dns_records`, 5000, read), [zone.id], null);
  const [server, setServer] = useState<OriginServer>('nginx');
  const [phase, setPhase] = useState<Phase>('log');
  const [caKind, setCaKind] = useState<'global' | 'own'>('global');
  const [caFile, setCaFile] = useState<string | null>(null);
  const [serverName, setServerName] = useState('');
  const [listen, setListen] = useState('443');
  const [upstream, setUpstream] = useState('');
  const [format, setFormat] = useState<'yaml' | 'toml'>('yaml');
  const [copied, setCopied] = useState(false);
  const def = SERVERS.find((s) => s.id === server) ?? SERVERS[0];
  const ca = caFile ?? def.caFile;
  const hostnames = [...new Set((records.data ?? []).map((r) => r.name))].sort();

  const rendered = useMemo(() => {
    try {
      const text = renderOriginConfig({
        server,
        phase,
        caFile: ca,
        caSource: caKind === 'global' ? `the installation's origin-pull CA (downloaded from ${CA_PEM_URL}), saved as ${ca}` : `your CA (the one that signed your uploaded client certificates), saved as ${ca}`,
        serverName: serverName.trim() || undefined,
        listen: listen.trim() || '443',
        upstream: upstream.trim() || undefined,
        format,
      });
      return { text, error: null };
    } catch (err) {
      return { text: '', error: errorMessage(err) };
    }
  }, [server, phase, ca, caKind, serverName, listen, upstream, format]);

  // The same text from the CLI, for scripts and for origins set up by hand later.
  const command = [
    `originpull origin-config --server ${server} --phase ${phase}`,
    caKind === 'global' ? '--global' : `--ca ${ca}`,
    serverName.trim() ? `--host ${serverName.trim()}` : '',
    listen.trim() && listen.trim() !== '443' ? `--listen ${listen.trim()}` : '',
    upstream.trim() ? `--upstream ${upstream.trim()}` : '',
    server === 'traefik' ? `--format ${format}` : '',
  ]
    .filter(Boolean)
    .join(' ');

  async function copy() {
    try {
      await navigator.clipboard.writeText(rendered.text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Clipboard needs a secure context; the text stays selectable.
      setCopied(false);
    }
  }

  const onText = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

  return html`<div class="card" aria-labelledby="setup-title">
    <h2 id="setup-title">Configure your origin</h2>
    <ol class="howto">
      <li>
        Put the CA on your origin:
        ${caKind === 'global'
          ? html` <a href=${CA_PEM_URL} download="authenticated_origin_pull_ca.pem">download the installation's origin-pull CA</a>`
          : ' the CA root that signed the client certificates you upload'}
        ${' '}and save it as <code>${ca}</code>.
      </li>
      <li>Paste the <strong>phase 1</strong> configuration below and reload the server.</li>
      <li>Turn Authenticated Origin Pulls on in the <a href=${href({ page: 'origin', zoneId: zone.id })}>Authenticated Origin Pulls</a> tab.</li>
      <li>Watch the origin's log until every request shows a verified client certificate.</li>
      <li>Paste the <strong>phase 2</strong> configuration to enforce, and check that requests without the certificate now fail.</li>
    </ol>

    <div class="grid-fields">
      <div class="field">
        <label for="setup-server">Origin web server</label>
        <select id="setup-server" value=${server} onChange=${(e: Event) => { setServer((e.target as HTMLSelectElement).value as OriginServer); setCaFile(null); }}>
          ${SERVERS.map((s) => html`<option value=${s.id}>${s.label}</option>`)}
        </select>
      </div>
      <fieldset class="field span-2 radio-row">
        <legend>Client certificates signed by</legend>
        <label><input type="radio" name="ca-kind" checked=${caKind === 'global'} onChange=${() => setCaKind('global')} /> The installation's origin-pull CA (global)</label>
        <label><input type="radio" name="ca-kind" checked=${caKind === 'own'} onChange=${() => setCaKind('own')} /> Your own CA (zone-level, per-hostname)</label>
      </fieldset>
      <div class="field span-2">
        <label for="setup-ca">CA file on the origin</label>
        <input id="setup-ca" value=${ca} spellcheck="false" onInput=${onText((v) => setCaFile(v))} />
      </div>
      <div class="field">
        <label for="setup-hostname">Hostname (optional)</label>
        <input id="setup-hostname" list="setup-hostnames" value=${serverName} spellcheck="false" placeholder=${`www.${zone.name}`} onInput=${onText(setServerName)} />
        <datalist id="setup-hostnames">${hostnames.map((h) => html`<option value=${h}></option>`)}</datalist>
      </div>
      <div class="field">
        <label for="setup-listen">Listen port</label>
        <input id="setup-listen" value=${listen} spellcheck="false" inputmode="numeric" onInput=${onText(setListen)} aria-describedby="setup-listen-hint" />
        <p class="hint" id="setup-listen-hint">PORT or HOST:PORT</p>
      </div>
      <div class="field span-2">
        <label for="setup-upstream">Application behind the origin (optional)</label>
        <input id="setup-upstream" value=${upstream} spellcheck="false" placeholder="http://127.0.0.1:8080" onInput=${onText(setUpstream)} />
      </div>
      ${server === 'traefik'
        ? html`<div class="field">
            <label for="setup-format">Traefik file format</label>
            <select id="setup-format" value=${format} onChange=${(e: Event) => setFormat((e.target as HTMLSelectElement).value as 'yaml' | 'toml')}>
              <option value="yaml">YAML</option>
              <option value="toml">TOML</option>
            </select>
          </div>`
        : null}
    </div>

    <fieldset class="radio-row phase-row">
      <legend>Phase</legend>
      ${(['log', 'enforce'] as Phase[]).map(
        (p) => html`<label class=${phase === p ? 'selected' : ''}>
          <input type="radio" name="phase" value=${p} checked=${phase === p} onChange=${() => setPhase(p)} aria-describedby=${`phase-${p}-line`} />
          <strong>${PHASE_TEXT[p].title}</strong>
          <span class="muted small" id=${`phase-${p}-line`}>${PHASE_TEXT[p].line}</span>
        </label>`,
      )}
    </fieldset>

    <${ErrorText} message=${rendered.error ?? undefined} />
    ${rendered.error
      ? null
      : html`<div class="config-box">
          <div class="config-head">
            <span id="config-caption">${def.label} · ${PHASE_TEXT[phase].title}</span>
            <button type="button" class="btn btn-secondary" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
          </div>
          <pre tabindex="0" aria-labelledby="config-caption" id="origin-config"><code>${rendered.text}</code></pre>
        </div>`}
    <p class="muted small">The same text from the command line: <code class="wrap">${command}</code></p>
  </div>`;
}
