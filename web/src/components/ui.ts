// Small shared pieces: field errors, status and expiry badges, the On/Off switch, tabs, and the
// note that explains why buttons are disabled for a read-only token.
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { expiryBand, expiryText, formatDate, isPending, statusText } from '../format.ts';
import { useAccess } from '../hooks.ts';
import type { CertStatus } from '../types.ts';

export const READ_ONLY_NOTE_ID = 'read-only-note';

/** The API's message beside the field or action that caused it (announced to screen readers). */
export function ErrorText({ id, message }: { id?: string; message: string | undefined }) {
  if (!message) return null;
  return html`<p class="error-text" id=${id} role="alert">${message}</p>`;
}

/** aria-describedby for a control: its hint and, when present, its error. */
export function describedBy(...ids: (string | false | undefined | null)[]): string | undefined {
  const list = ids.filter((x): x is string => typeof x === 'string' && x !== '');
  return list.length > 0 ? list.join(' ') : undefined;
}

export function StatusBadge({ status }: { status: CertStatus }) {
  const tone = status === 'active' ? 'ok' : isPending(status) ? 'pending' : status.endsWith('timed_out') ? 'bad' : 'muted';
  return html`<span class=${`badge badge-${tone}`} data-status=${status}>
    ${isPending(status) ? html`<span class="spinner" aria-hidden="true"></span>` : null}${statusText(status)}
  </span>`;
}

export function ExpiryBadge({ expires }: { expires: string }) {
  const band = expiryBand(expires);
  return html`<span class=${`expiry expiry-${band}`} data-band=${band} title=${formatDate(expires)}>
    ${formatDate(expires).slice(0, 10)} · ${expiryText(expires)}
  </span>`;
}

interface SwitchProps {
  id: string;
  label: string;
  checked: boolean;
  busy?: boolean;
  onChange: (next: boolean) => void;
  describedBy?: string;
}

/** An On/Off toggle: a button with role="switch", usable with Space and Enter. */
export function Switch({ id, label, checked, busy, onChange, describedBy: desc }: SwitchProps) {
  const access = useAccess();
  const disabled = !access.canEdit || busy;
  return html`<div class="switch-row">
    <span class="switch-label" id=${`${id}-label`}>${label}</span>
    <button
      type="button"
      id=${id}
      class=${`switch ${checked ? 'on' : 'off'}`}
      role="switch"
      aria-checked=${checked ? 'true' : 'false'}
      aria-labelledby=${`${id}-label`}
      aria-describedby=${describedBy(desc, !access.canEdit && READ_ONLY_NOTE_ID)}
      disabled=${disabled}
      onClick=${() => onChange(!checked)}
    >
      <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
      <span class="switch-text">${checked ? 'On' : 'Off'}</span>
    </button>
  </div>`;
}

/** A button that changes something: disabled, with the reason, for read-only tokens. */
export function WriteButton(props: {
  children: ComponentChildren;
  onClick?: () => void;
  type?: 'button' | 'submit';
  kind?: 'primary' | 'secondary' | 'danger';
  busy?: boolean;
  disabled?: boolean;
  id?: string;
  label?: string;
  describedBy?: string;
}) {
  const access = useAccess();
  return html`<button
    type=${props.type ?? 'button'}
    id=${props.id}
    class=${`btn btn-${props.kind ?? 'secondary'}`}
    disabled=${!access.canEdit || props.busy || props.disabled}
    aria-label=${props.label}
    aria-busy=${props.busy ? 'true' : undefined}
    aria-describedby=${describedBy(props.describedBy, !access.canEdit && READ_ONLY_NOTE_ID)}
    title=${access.canEdit ? undefined : (access.readOnlyReason ?? 'This token may only read')}
    onClick=${props.onClick}
  >
    ${props.children}
  </button>`;
}

export interface TabDef {
  id: string;
  label: string;
}

/** WAI-ARIA tabs: arrow keys, Home and End move between tabs. */
export function Tabs({ label, tabs, active, onSelect, idPrefix }: { label: string; tabs: TabDef[]; active: string; onSelect: (id: string) => void; idPrefix: string }) {
  const list = useRef<HTMLDivElement>(null);
  function onKeyDown(e: KeyboardEvent) {
    const i = tabs.findIndex((t) => t.id === active);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    onSelect(tabs[next].id);
    list.current?.querySelectorAll<HTMLButtonElement>('[role="tab"]')[next]?.focus();
  }
  return html`<div class="tabs" role="tablist" aria-label=${label} ref=${list} onKeyDown=${onKeyDown}>
    ${tabs.map(
      (t) => html`<button
        type="button"
        role="tab"
        id=${`${idPrefix}-tab-${t.id}`}
        aria-controls=${`${idPrefix}-panel-${t.id}`}
        aria-selected=${t.id === active ? 'true' : 'false'}
        tabindex=${t.id === active ? 0 : -1}
        class=${t.id === active ? 'tab active' : 'tab'}
        onClick=${() => onSelect(t.id)}
      >
        ${t.label}
      </button>`,
    )}
  </div>`;
}

export function Loading({ what }: { what: string }) {
  return html`<p class="muted" role="status"><span class="spinner" aria-hidden="true"></span> Loading ${what}…</p>`;
}

export function Section({ title, id, children, actions }: { title: string; id: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return html`<section class="card" aria-labelledby=${`${id}-title`} id=${id}>
    <div class="card-head">
      <h2 id=${`${id}-title`}>${title}</h2>
      ${actions ? html`<div class="card-actions">${actions}</div>` : null}
    </div>
    ${children}
  </section>`;
}
