// The shell: sign-in gate, header with the zone picker, navigation (Proxied hostnames, SSL/TLS →
// Overview / Edge Certificates / Origin Server, Notifications), the read-only note, and the page for the route.
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getAll, onApiFailure } from '../api.ts';
import { isReadOnlyRefusal, verifyToken, type TokenInfo } from '../access.ts';
import { AccessContext, usePoll, type Access } from '../hooks.ts';
import { href, navigate, useRoute, type Route, type ZonePage } from '../router.ts';
import { clearToken, loadToken } from '../session.ts';
import type { Zone } from '../types.ts';
import { DnsPage } from './dns-records.ts';
import { EdgeCertificatesPage } from './edge-certificates.ts';
import { NotificationsPage } from './notifications.ts';
import { OriginServerPage } from './origin-server.ts';
import { SignIn } from './sign-in.ts';
import { SslOverviewPage } from './ssl-overview.ts';
import { TokensPage } from './tokens.ts';
import { READ_ONLY_NOTE_ID } from './ui.ts';
import { ZonesPage } from './zones.ts';

type SessionState = { state: 'checking'; token: string } | { state: 'signed-out'; notice: string | null } | { state: 'signed-in'; token: string; info: TokenInfo };

function initialSession(): SessionState {
  const token = loadToken();
  return token ? { state: 'checking', token } : { state: 'signed-out', notice: null };
}

export function App() {
  const [session, setSession] = useState<SessionState>(initialSession);
  const [refusal, setRefusal] = useState<string | null>(null);
  // The failure listener outlives renders; it needs the state of now, not of its first render.
  const signedIn = useRef(false);
  signedIn.current = session.state === 'signed-in';

  // Re-check a token kept from earlier in this tab.
  useEffect(() => {
    if (session.state !== 'checking') return;
    verifyToken(session.token).then(
      (info) => setSession({ state: 'signed-in', token: session.token, info }),
      (err: Error) => {
        clearToken();
        setSession({ state: 'signed-out', notice: `Please sign in again: ${err.message}` });
      },
    );
  }, [session]);

  useEffect(
    () =>
      onApiFailure((failure) => {
        // A 401 before sign-in is the sign-in form's own answer, shown beside the token field.
        if (failure.status === 401 && signedIn.current) {
          clearToken();
          setSession({ state: 'signed-out', notice: `Signed out: the API refused the token (${failure.message})` });
        } else if (isReadOnlyRefusal(failure)) {
          setRefusal(failure.message);
        }
      }),
    [],
  );

  function signOut() {
    clearToken();
    setRefusal(null);
    setSession({ state: 'signed-out', notice: null });
  }

  if (session.state === 'checking') return html`<main class="signin" id="main"><p class="muted" role="status">Checking the saved token…</p></main>`;
  if (session.state === 'signed-out') {
    return html`<${SignIn}
      notice=${session.notice}
      onSignedIn=${(token: string, info: TokenInfo) => {
        setRefusal(null);
        setSession({ state: 'signed-in', token, info });
      }}
    />`;
  }

  const access: Access =
    session.info.permission === 'read'
      ? { canEdit: false, readOnlyReason: 'this token has read permission only (the API refuses every change with 403)' }
      : refusal !== null
        ? { canEdit: false, readOnlyReason: `the API refused a change with this token: “${refusal}”` }
        : { canEdit: true, readOnlyReason: null };

  return html`<${AccessContext.Provider} value=${access}>
    <${Dashboard} info=${session.info} access=${access} onSignOut=${signOut} />
  <//>`;
}

function Dashboard({ info, access, onSignOut }: { info: TokenInfo; access: Access; onSignOut: () => void }) {
  const route = useRoute();
  const zones = usePoll((read) => getAll<Zone>('/zones', 50, read), [info.id], null);
  const list = zones.data ?? [];
  const zoneId = 'zoneId' in route ? route.zoneId : null;
  const zone = useMemo(() => list.find((z) => z.id === zoneId) ?? null, [list, zoneId]);
  const [navOpen, setNavOpen] = useState(false);

  useEffect(() => setNavOpen(false), [route.page, zoneId]);

  function onPickZone(e: Event) {
    const id = (e.target as HTMLSelectElement).value;
    if (id === '') navigate({ page: 'zones' });
    else navigate({ page: 'zoneId' in route ? route.page : 'dns', zoneId: id });
  }

  return html`<div class="layout">
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="#/"><span class="brand-mark" aria-hidden="true">⇄</span> originpull</a>
      <div class="zone-picker">
        <label for="zone-select">Zone</label>
        <select id="zone-select" value=${zoneId ?? ''} onChange=${onPickZone}>
          <option value="">All zones…</option>
          ${list.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
        </select>
      </div>
      <a class="topbar-link" href=${href({ page: 'tokens' })} aria-current=${route.page === 'tokens' ? 'page' : undefined}>API tokens</a>
      <div class="token-info">
        <span class=${`badge ${access.canEdit ? 'badge-ok' : 'badge-muted'}`} title=${`Token ${info.id}`}>
          ${info.admin ? 'Admin token' : access.canEdit ? (info.permission === 'edit' ? 'Edit token' : 'Token') : 'Read-only token'}
        </span>
        <button type="button" class="btn btn-secondary" onClick=${onSignOut}>Sign out</button>
      </div>
      ${zone
        ? html`<button type="button" class="btn btn-secondary nav-toggle" aria-expanded=${navOpen ? 'true' : 'false'} aria-controls="zone-nav" onClick=${() => setNavOpen(!navOpen)}>
            Menu
          </button>`
        : null}
    </header>
    ${!access.canEdit
      ? html`<p class="banner banner-info" id=${READ_ONLY_NOTE_ID} role="note">
          <strong>Read-only:</strong> you can see everything, but the buttons that change things are disabled because ${access.readOnlyReason}.
        </p>`
      : null}
    <div class=${zone ? 'body with-nav' : 'body'}>
      ${zone ? html`<${ZoneNav} zone=${zone} page=${route.page as ZonePage} open=${navOpen} />` : null}
      <main id="main" tabindex="-1" class="content">
        <${Page} route=${route} zone=${zone} zones=${list} loaded=${zones.loaded} error=${zones.error} reloadZones=${zones.reload} admin=${info.admin} />
      </main>
    </div>
  </div>`;
}

function ZoneNav({ zone, page, open }: { zone: Zone; page: ZonePage; open: boolean }) {
  const link = (p: ZonePage, label: string, sub = false) =>
    html`<li class=${sub ? 'sub' : ''}>
      <a href=${href({ page: p, zoneId: zone.id })} aria-current=${page === p || (p === 'origin' && page === 'origin-setup') ? 'page' : undefined}>${label}</a>
    </li>`;
  return html`<nav class=${open ? 'zone-nav open' : 'zone-nav'} id="zone-nav" aria-label=${`${zone.name} settings`}>
    <p class="nav-zone">${zone.name}</p>
    <ul>
      ${link('dns', 'Proxied hostnames')}
      <li class="group" aria-hidden="true">SSL/TLS</li>
      ${link('ssl', 'Overview', true)} ${link('edge-certs', 'Edge Certificates', true)} ${link('origin', 'Origin Server', true)}
      <li class="group" aria-hidden="true">More</li>
      ${link('notifications', 'Notifications', true)}
    </ul>
  </nav>`;
}

function Page({
  route,
  zone,
  zones,
  loaded,
  error,
  reloadZones,
  admin,
}: {
  route: Route;
  zone: Zone | null;
  zones: Zone[];
  loaded: boolean;
  error: Error | null;
  reloadZones: () => Promise<void>;
  admin: boolean;
}) {
  // Focus the page heading on navigation so keyboard and screen-reader users land on the new page.
  useEffect(() => {
    document.querySelector<HTMLElement>('#main h1')?.focus();
  }, [route.page, 'zoneId' in route ? route.zoneId : '']);

  if (route.page === 'zones') return html`<${ZonesPage} zones=${zones} loaded=${loaded} error=${error} onChanged=${() => void reloadZones()} />`;
  if (route.page === 'tokens') return html`<${TokensPage} zones=${zones} admin=${admin} />`;
  if (!zone) {
    if (!loaded) return html`<p class="muted" role="status">Loading zones…</p>`;
    return html`<div class="page">
      <h1 tabindex="-1">Zone not found</h1>
      <p>This zone does not exist or this token cannot see it. <a href="#/">Back to the zones</a>.</p>
    </div>`;
  }
  switch (route.page) {
    case 'dns':
      return html`<${DnsPage} zone=${zone} />`;
    case 'ssl':
      return html`<${SslOverviewPage} zone=${zone} />`;
    case 'origin':
    case 'origin-setup':
      return html`<${OriginServerPage} zone=${zone} tab=${route.page === 'origin' ? 'aop' : 'setup'} />`;
    case 'notifications':
      return html`<${NotificationsPage} zone=${zone} />`;
    case 'edge-certs':
      return html`<${EdgeCertificatesPage} zone=${zone} />`;
  }
}
