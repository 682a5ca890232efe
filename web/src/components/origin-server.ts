// SSL/TLS › Origin Server: the "Authenticated Origin Pulls" tab (global, zone-level, per-hostname,
// effective certificate) and the "Origin set-up" tab (configuration to paste on the origin).
import { html } from 'htm/preact';
import { get } from '../api.ts';
import { POLL_MS, usePoll } from '../hooks.ts';
import { navigate } from '../router.ts';
import type { Setting, Zone } from '../types.ts';
import { GlobalAop } from './aop-global.ts';
import { EffectiveAop } from './aop-effective.ts';
import { HostnameAop } from './aop-hostnames.ts';
import { ZoneAop } from './aop-zone.ts';
import { OriginSetup } from './origin-setup.ts';
import { AopModeWarning } from './ssl-overview.ts';
import { Tabs } from './ui.ts';

const TABS = [
  { id: 'aop', label: 'Authenticated Origin Pulls' },
  { id: 'setup', label: 'Origin set-up' },
];

export function OriginServerPage({ zone, tab }: { zone: Zone; tab: 'aop' | 'setup' }) {
  const ssl = usePoll((read) => get<Setting>(`/zones/${zone.id}/settings/ssl`, read), [zone.id], POLL_MS * 4);
  return html`<div class="page">
    <h1 tabindex="-1">Origin Server</h1>
    <p class="lead">How the edge proves itself to the origins of ${zone.name}: a TLS client certificate on every connection (Authenticated Origin Pulls).</p>
    <${Tabs}
      label="Origin Server"
      idPrefix="origin"
      tabs=${TABS}
      active=${tab}
      onSelect=${(id: string) => navigate({ page: id === 'aop' ? 'origin' : 'origin-setup', zoneId: zone.id })}
    />
    <div role="tabpanel" id=${`origin-panel-${tab}`} aria-labelledby=${`origin-tab-${tab}`} class="tabpanel">
      <${AopModeWarning} mode=${ssl.data?.value} zone=${zone} />
      ${tab === 'aop'
        ? html`<p class="muted">Global, zone-level and per-hostname are independent: enabling or disabling one does not change the others.</p>
            <${GlobalAop} zone=${zone} />
            <${ZoneAop} zone=${zone} />
            <${HostnameAop} zone=${zone} />
            <${EffectiveAop} zone=${zone} />`
        : html`<${OriginSetup} zone=${zone} />`}
    </div>
  </div>`;
}
