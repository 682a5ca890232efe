// One error handler and one not-found handler write every failure as a v4 envelope with a 4xx/5xx
// status: schema failures name the field, malformed JSON and oversized bodies
// are told apart, store errors map through errors.ts, and anything unexpected is a logged 500
// whose message reveals nothing.
// Tested in test/api/openapi.test.ts and test/api/uploads.test.ts.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { API_ERRORS, ApiError, fromStoreError } from './errors.ts';

interface V4Error {
  code: number;
  message: string;
  source?: { pointer: string };
}

function send(reply: FastifyReply, status: number, error: V4Error, headers: Record<string, string> = {}): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send({ success: false, errors: [error], messages: [], result: null });
}

/** `/config/0/enabled` → `config[0].enabled`. */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

const CONTEXT: Record<string, string> = { body: 'body field', querystring: 'query parameter', params: 'path parameter', headers: 'header' };

/** One readable sentence for the first schema failure, naming the field. */
export function describeValidation(errors: FastifySchemaValidationError[], context: string | undefined): V4Error {
  const first = errors[0];
  let pointer = first.instancePath;
  let problem = first.message ?? 'is invalid';
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'required' && typeof params.missingProperty === 'string') {
    pointer = `${pointer}/${params.missingProperty}`;
    problem = 'is required';
  } else {
    // anyOf (e.g. boolean | null): list every accepted type instead of the first branch's complaint.
    const types = errors.filter((e) => e.instancePath === first.instancePath && e.keyword === 'type').map((e) => String((e.params as { type?: unknown }).type));
    const constants = errors.filter((e) => e.instancePath === first.instancePath && e.keyword === 'const').map((e) => JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue));
    if (constants.length > 1) problem = `must be one of ${constants.join(', ')}`;
    else if (types.length > 1) problem = `must be ${types.join(' or ')}`;
  }
  const where = CONTEXT[context ?? 'body'] ?? context ?? 'body field';
  const name = fieldName(pointer);
  const message = name ? `Invalid request: ${where} ${name} ${problem}` : `Invalid request: ${context === 'body' || context === undefined ? 'the body' : where} ${problem}`;
  return { code: API_ERRORS.invalidRequest.code, message, source: { pointer: pointer || '/' } };
}

function fromFastifyError(err: FastifyError): { status: number; error: V4Error } | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: { code: API_ERRORS.bodyTooLarge.code, message: API_ERRORS.bodyTooLarge.message } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, error: { code: API_ERRORS.unsupportedMediaType.code, message: API_ERRORS.unsupportedMediaType.message } };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, error: { code: API_ERRORS.malformedJson.code, message: 'Malformed JSON in request body: it does not parse as JSON' } };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, error: { code: API_ERRORS.invalidRequest.code, message: 'Invalid request: Content-Length does not match the body' } };
    default:
      if (err.code?.startsWith('FST_ERR_CTP_') && err.statusCode !== undefined && err.statusCode < 500) {
        return { status: err.statusCode, error: { code: API_ERRORS.invalidRequest.code, message: `Invalid request: ${err.message}` } };
      }
      return null;
  }
}

function handleError(this: FastifyInstance, err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const mapped = err instanceof ApiError ? err : fromStoreError(err);
  if (mapped) {
    const error: V4Error = { code: mapped.code, message: mapped.message, ...(mapped.pointer ? { source: { pointer: mapped.pointer } } : {}) };
    return send(reply, mapped.statusCode, error, mapped.headers);
  }
  if (err.validation) return send(reply, 400, describeValidation(err.validation, err.validationContext));
  const known = fromFastifyError(err);
  if (known) return send(reply, known.status, known.error);
  if (err instanceof SyntaxError) return send(reply, 400, { code: API_ERRORS.malformedJson.code, message: API_ERRORS.malformedJson.message });
  request.log.error({ err }, 'unhandled API error');
  return send(reply, 500, { code: API_ERRORS.internal.code, message: API_ERRORS.internal.message });
}

/** Routes by method, to tell a wrong method (405) from an unknown path (404). */
class RouteTable {
  readonly #routes: { method: string; pattern: RegExp }[] = [];

  add(methods: string | string[], url: string): void {
    const source = url
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    for (const method of Array.isArray(methods) ? methods : [methods]) this.#routes.push({ method, pattern });
  }

  allowed(path: string): string[] {
    return [...new Set(this.#routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => routes.add(route.method, route.url));

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = routes.allowed(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return send(reply, 405, { code: API_ERRORS.methodNotAllowed.code, message: `Method ${request.method} is not allowed here; use ${allowed.join(', ')}` }, { allow: allowed.join(', ') });
    }
    return send(reply, 404, { code: API_ERRORS.noRoute.code, message: `${API_ERRORS.noRoute.message}: ${request.method} ${path}` });
  });

  // JSON bodies: the default parser (prototype-poisoning safe), except that an empty body is
  // "no body" — the 2024 spec wants `{}` on DELETE, the SDK sends nothing, some clients send "".
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    json(request, text, done);
  });
}
