// Sign in with an API token: verified against GET /user/tokens/verify, then kept in this tab's
// sessionStorage only.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { verifyToken, type TokenInfo } from '../access.ts';
import { useForm } from '../hooks.ts';
import { saveToken } from '../session.ts';
import { ErrorText, describedBy } from './ui.ts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string, info: TokenInfo) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const form = useForm(['token']);

  async function onSubmit(e: Event) {
    e.preventDefault();
    const value = token.trim();
    if (value === '') {
      form.setError('token', 'Enter an API token');
      return;
    }
    await form.submit(async () => {
      const info = await verifyToken(value);
      saveToken(value);
      onSignedIn(value, info);
    });
  }

  const error = form.errors.token ?? form.errors.form;
  return html`<main class="signin" id="main">
    <form class="card signin-card" onSubmit=${onSubmit} aria-labelledby="signin-title" novalidate>
      <h1 id="signin-title"><span class="brand-mark" aria-hidden="true">⇄</span> originpull</h1>
      <p class="muted">Sign in with an API token to manage zones, proxied hostnames, SSL/TLS and Authenticated Origin Pulls.</p>
      ${notice ? html`<p class="banner banner-warn" role="status">${notice}</p>` : null}
      <label for="token">API token</label>
      <input
        id="token"
        name="token"
        type="password"
        autocomplete="off"
        spellcheck="false"
        value=${token}
        onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${describedBy('token-hint', error && 'token-error')}
        autofocus
      />
      <p class="hint" id="token-hint">
        The admin token is printed at first start and kept in <code>${'<data-dir>/admin-token'}</code>. The token stays in this tab's session
        storage and is sent only in the Authorization header.
      </p>
      <${ErrorText} id="token-error" message=${error} />
      <button type="submit" class="btn btn-primary" disabled=${form.busy}>${form.busy ? 'Checking…' : 'Sign in'}</button>
    </form>
  </main>`;
}
