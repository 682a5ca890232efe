// The API token lives in sessionStorage only: it leaves with the tab, never enters a URL, and is
// sent only as an Authorization header by api.ts.
const KEY = 'originpull.token';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
