// The one renderer of edge error pages: a short HTML page (or JSON when asked) naming the status,
// the cause and the ray id, like Cloudflare's 52x pages.
// Tested in test/edge/classify-upstream-error.test.ts and test/edge/phases-respond.test.ts.
import type { EdgeError } from './errors.ts';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface ErrorPage {
  contentType: string;
  body: string;
}

export function renderErrorPage(err: EdgeError, rayId: string, hostname: string, wantsJson: boolean): ErrorPage {
  if (wantsJson) {
    return {
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ success: false, status: err.status, code: err.code, title: err.title, cause: err.visitorMessage, host: hostname, ray_id: rayId }) + '\n',
    };
  }
  const title = `${err.status}: ${escapeHtml(err.title)}`;
  return {
    contentType: 'text/html; charset=utf-8',
    body:
      `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>` +
      `<h1>${title}</h1><p>${escapeHtml(err.visitorMessage)}</p>` +
      `<p>Host: <code>${escapeHtml(hostname)}</code> · Error code: <code>${err.code}</code> · Ray ID: <code>${escapeHtml(rayId)}</code></p>` +
      `<p><small>originpull edge</small></p></body></html>\n`,
  };
}
