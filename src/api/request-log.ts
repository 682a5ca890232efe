// One log line per API request, written once the answer went out: method, URL, status and time,
// the way an access log reads. Fastify's own controller writes two ("incoming request", "request
// completed"). The dashboard re-reads what it shows every second or two and marks those reads with
// POLL_HEADER; they go to debug so that a page left open does not fill the log at info, and so do
// Prometheus scrapes of METRICS_PATH. A refresh or scrape that fails stays at info: a 401 or 500
// is worth seeing whoever asked.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { METRICS_PATH } from './metrics.ts';

/** Sent by the dashboard (web/src/api.ts) on its background refreshes. */
export const POLL_HEADER = 'x-originpull-poll';

export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const line = { method: request.method, url: request.url, status, ms: Math.round(reply.elapsedTime * 10) / 10, ip: request.ip };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if ((request.headers[POLL_HEADER] === '1' || request.routeOptions.url === METRICS_PATH) && status < 400) reply.log.debug(line, 'request');
    else reply.log.info(line, 'request');
  }
}
