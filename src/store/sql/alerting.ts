// The alerting part of the shared SQL store: webhook destinations, policies and the
// delivery outbox. SqlStore's methods wrap these in transactions; nothing here bumps the config
// version. Exactly-once rests on two statements both engines make atomic:
// INSERT … ON CONFLICT (dedupe_key) DO NOTHING, and a claim that is one conditional UPDATE.
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/alerting-contract.ts).
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import type {
  AlertAttemptResult,
  AlertDelivery,
  AlertDeliveryClaim,
  AlertDeliveryFilter,
  AlertDeliveryPage,
  AlertPolicy,
  AlertPolicyPatch,
  AlertWebhook,
  AlertWebhookPatch,
  NewAlertDelivery,
  NewAlertPolicy,
  NewAlertWebhook,
} from '../store.ts';
import {
  bool,
  toAlertDelivery,
  toAlertPolicy,
  toAlertWebhook,
  type AlertDeliveryRow,
  type AlertPolicyRow,
  type AlertWebhookRow,
} from './rows.ts';
import type { SqlTx, SqlValue } from './sql-tx.ts';

// ── webhooks ─────────────────────────────────────────────────────────────────

export async function createWebhook(tx: SqlTx, input: NewAlertWebhook): Promise<AlertWebhook> {
  await assertAccount(tx, input.accountId);
  const row = await tx.get<AlertWebhookRow>(
    `INSERT INTO alert_webhooks (id, account_id, name, url, type, secret_sealed, created_at, last_success, last_failure)
     VALUES (?, ?, ?, ?, 'generic', ?, ?, ?, NULL) RETURNING *`,
    [randomUUID(), input.accountId, input.name, input.url, input.secretSealed, input.createdAt, input.lastSuccess],
  );
  return toAlertWebhook(row!);
}

export async function listWebhooks(tx: SqlTx, accountId: string): Promise<AlertWebhook[]> {
  const rows = await tx.all<AlertWebhookRow>('SELECT * FROM alert_webhooks WHERE account_id = ? ORDER BY created_at, id', [accountId]);
  return rows.map(toAlertWebhook);
}

export async function getWebhook(tx: SqlTx, accountId: string, id: string): Promise<AlertWebhook | null> {
  const row = await tx.get<AlertWebhookRow>('SELECT * FROM alert_webhooks WHERE account_id = ? AND id = ?', [accountId, id]);
  return row ? toAlertWebhook(row) : null;
}

export async function updateWebhook(tx: SqlTx, accountId: string, id: string, patch: AlertWebhookPatch): Promise<AlertWebhook> {
  const current = await getWebhook(tx, accountId, id);
  if (!current) throw new NotFoundError(`webhook ${id} not found`);
  const row = await tx.get<AlertWebhookRow>(
    'UPDATE alert_webhooks SET name = ?, url = ?, secret_sealed = ?, last_success = ? WHERE id = ? RETURNING *',
    [
      patch.name ?? current.name,
      patch.url ?? current.url,
      patch.secretSealed === undefined ? current.secretSealed : patch.secretSealed,
      patch.lastSuccess ?? current.lastSuccess,
      id,
    ],
  );
  return toAlertWebhook(row!);
}

export async function deleteWebhook(tx: SqlTx, accountId: string, id: string, at: number): Promise<boolean> {
  if (!(await getWebhook(tx, accountId, id))) return false;
  const users = await tx.all<{ id: string; name: string }>(
    `SELECT p.id, p.name FROM alert_policy_webhooks pw JOIN alert_policies p ON p.id = pw.policy_id
     WHERE pw.webhook_id = ? ORDER BY p.created, p.id`,
    [id],
  );
  if (users.length > 0) {
    const names = users.map((p) => `"${p.name}" (${p.id})`).join(', ');
    throw new ConflictError(`webhook ${id} is used by the polic${users.length === 1 ? 'y' : 'ies'} ${names}: remove it from their mechanisms first`);
  }
  await cancelWhere(tx, 'webhook_id = ?', [id], 'cancelled: the webhook was deleted', at);
  await tx.run('DELETE FROM alert_webhooks WHERE id = ?', [id]);
  return true;
}

// ── policies ─────────────────────────────────────────────────────────────────

export async function createPolicy(tx: SqlTx, input: NewAlertPolicy): Promise<AlertPolicy> {
  await assertAccount(tx, input.accountId);
  const webhookIds = unique(input.webhookIds);
  await assertWebhooks(tx, input.accountId, webhookIds);
  const id = randomUUID();
  const row = await tx.get<AlertPolicyRow>(
    `INSERT INTO alert_policies (id, account_id, name, description, enabled, alert_type, alert_interval, filters, created, modified)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      id,
      input.accountId,
      input.name,
      input.description,
      bool(input.enabled),
      input.alertType,
      input.alertInterval,
      JSON.stringify(input.filters),
      input.created,
      input.created,
    ],
  );
  await writePolicyWebhooks(tx, id, webhookIds);
  return toAlertPolicy(row!, webhookIds);
}

export async function listPolicies(tx: SqlTx, accountId?: string): Promise<AlertPolicy[]> {
  const where = accountId === undefined ? '' : ' WHERE p.account_id = ?';
  const params: SqlValue[] = accountId === undefined ? [] : [accountId];
  const rows = await tx.all<AlertPolicyRow>(`SELECT * FROM alert_policies p${where} ORDER BY p.created, p.id`, params);
  const links = await tx.all<{ policy_id: string; webhook_id: string }>(
    `SELECT pw.policy_id, pw.webhook_id FROM alert_policy_webhooks pw JOIN alert_policies p ON p.id = pw.policy_id${where}
     ORDER BY pw.policy_id, pw.seq`,
    params,
  );
  const byPolicy = new Map<string, string[]>();
  for (const l of links) {
    let ids = byPolicy.get(l.policy_id);
    if (!ids) byPolicy.set(l.policy_id, (ids = []));
    ids.push(l.webhook_id);
  }
  return rows.map((r) => toAlertPolicy(r, byPolicy.get(r.id) ?? []));
}

export async function getPolicy(tx: SqlTx, accountId: string, id: string): Promise<AlertPolicy | null> {
  const row = await tx.get<AlertPolicyRow>('SELECT * FROM alert_policies WHERE account_id = ? AND id = ?', [accountId, id]);
  if (!row) return null;
  const links = await tx.all<{ webhook_id: string }>('SELECT webhook_id FROM alert_policy_webhooks WHERE policy_id = ? ORDER BY seq', [id]);
  return toAlertPolicy(
    row,
    links.map((l) => l.webhook_id),
  );
}

export async function updatePolicy(tx: SqlTx, accountId: string, id: string, patch: AlertPolicyPatch): Promise<AlertPolicy> {
  const current = await getPolicy(tx, accountId, id);
  if (!current) throw new NotFoundError(`policy ${id} not found`);
  const webhookIds = patch.webhookIds === undefined ? current.webhookIds : unique(patch.webhookIds);
  if (patch.webhookIds !== undefined) await assertWebhooks(tx, accountId, webhookIds);
  const row = await tx.get<AlertPolicyRow>(
    `UPDATE alert_policies SET name = ?, description = ?, enabled = ?, alert_type = ?, alert_interval = ?, filters = ?, modified = ?
     WHERE id = ? RETURNING *`,
    [
      patch.name ?? current.name,
      patch.description ?? current.description,
      bool(patch.enabled ?? current.enabled),
      patch.alertType ?? current.alertType,
      patch.alertInterval === undefined ? current.alertInterval : patch.alertInterval,
      JSON.stringify(patch.filters ?? current.filters),
      patch.modified,
      id,
    ],
  );
  if (patch.webhookIds !== undefined) {
    await tx.run('DELETE FROM alert_policy_webhooks WHERE policy_id = ?', [id]);
    await writePolicyWebhooks(tx, id, webhookIds);
  }
  return toAlertPolicy(row!, webhookIds);
}

export async function deletePolicy(tx: SqlTx, accountId: string, id: string, at: number): Promise<boolean> {
  const deleted = await tx.run('DELETE FROM alert_policies WHERE account_id = ? AND id = ?', [accountId, id]);
  if (deleted === 0) return false;
  await cancelWhere(tx, 'policy_id = ?', [id], 'cancelled: the policy was deleted', at);
  return true;
}

// ── deliveries ───────────────────────────────────────────────────────────────

export async function enqueueDeliveries(tx: SqlTx, rows: NewAlertDelivery[]): Promise<number> {
  let inserted = 0;
  for (const d of rows) {
    inserted += await tx.run(
      `INSERT INTO alert_deliveries (id, dedupe_key, account_id, zone_id, certificate_id, policy_id, webhook_id, alert_type, event,
         payload, status, attempts, created_at, next_attempt_at, give_up_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        randomUUID(),
        d.dedupeKey,
        d.accountId,
        d.zoneId,
        d.certificateId,
        d.policyId,
        d.webhookId,
        d.alertType,
        d.event,
        d.payload,
        d.createdAt,
        d.nextAttemptAt,
        d.giveUpAt,
      ],
    );
  }
  return inserted;
}

const CLAIMABLE = `status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)`;

/** Each row is taken by its own conditional UPDATE (no transaction): whoever updates it first owns it. */
export async function claimDeliveries(tx: SqlTx, claim: AlertDeliveryClaim): Promise<AlertDelivery[]> {
  const candidates = await tx.all<{ id: string }>(
    `SELECT id FROM alert_deliveries WHERE ${CLAIMABLE} ORDER BY next_attempt_at, id LIMIT ?`,
    [claim.now, claim.now, claim.limit],
  );
  const claimed: AlertDelivery[] = [];
  for (const { id } of candidates) {
    const row = await tx.get<AlertDeliveryRow>(
      `UPDATE alert_deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, last_attempt_at = ?
       WHERE id = ? AND ${CLAIMABLE}
         AND (EXISTS (SELECT 1 FROM certificates c WHERE c.id = alert_deliveries.certificate_id AND c.delete_version IS NULL)
           OR EXISTS (SELECT 1 FROM edge_certificates e WHERE e.id = alert_deliveries.certificate_id AND e.delete_version IS NULL)
           OR EXISTS (SELECT 1 FROM certificate_packs k WHERE k.id = alert_deliveries.certificate_id AND k.delete_version IS NULL))
         AND EXISTS (SELECT 1 FROM alert_policies p WHERE p.id = alert_deliveries.policy_id AND p.enabled = 1)
       RETURNING *`,
      [claim.owner, claim.now + claim.leaseMs, claim.now, id, claim.now, claim.now],
    );
    if (row) claimed.push(toAlertDelivery(row));
  }
  return claimed;
}

export async function finishDelivery(tx: SqlTx, id: string, owner: string, result: AlertAttemptResult): Promise<boolean> {
  const release = 'lease_owner = NULL, lease_until = NULL';
  const mine = "WHERE id = ? AND lease_owner = ? AND status = 'pending' RETURNING webhook_id";
  let row: { webhook_id: string } | undefined;
  switch (result.outcome) {
    case 'delivered':
      row = await tx.get(
        `UPDATE alert_deliveries SET status = 'delivered', delivered_at = ?, last_status = ?, last_error = NULL,
           next_attempt_at = NULL, ${release} ${mine}`,
        [result.at, result.httpStatus, id, owner],
      );
      break;
    case 'retry':
      row = await tx.get(`UPDATE alert_deliveries SET next_attempt_at = ?, last_status = ?, last_error = ?, ${release} ${mine}`, [
        result.nextAttemptAt,
        result.httpStatus,
        result.error,
        id,
        owner,
      ]);
      break;
    case 'failed':
    case 'cancelled':
      row = await tx.get(`UPDATE alert_deliveries SET status = ?, next_attempt_at = NULL, last_status = ?, last_error = ?, ${release} ${mine}`, [
        result.outcome,
        result.httpStatus,
        result.error,
        id,
        owner,
      ]);
      break;
  }
  if (!row) return false;
  if (result.outcome === 'delivered') {
    await tx.run('UPDATE alert_webhooks SET last_success = ? WHERE id = ?', [result.at, row.webhook_id]);
  } else if (result.outcome !== 'cancelled') {
    await tx.run('UPDATE alert_webhooks SET last_failure = ? WHERE id = ?', [result.at, row.webhook_id]);
  }
  return true;
}

export async function cancelDeliveries(tx: SqlTx, ids: string[], reason: string, at: number): Promise<number> {
  let n = 0;
  // Chunked: an IN list per statement stays well under both engines' parameter limits.
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    n += await cancelWhere(tx, `id IN (${chunk.map(() => '?').join(', ')})`, chunk, reason, at);
  }
  return n;
}

/** Newest first; the id makes the order total, so pages neither overlap nor skip rows. */
const DELIVERY_ORDER = 'created_at DESC, id';

export async function listDeliveries(tx: SqlTx, filter: AlertDeliveryFilter): Promise<AlertDelivery[]> {
  const { where, params } = deliveryWhere(filter);
  params.push(Math.max(1, Math.trunc(filter.limit ?? 1000)));
  const rows = await tx.all<AlertDeliveryRow>(`SELECT * FROM alert_deliveries${where} ORDER BY ${DELIVERY_ORDER} LIMIT ?`, params);
  return rows.map(toAlertDelivery);
}

/** Run in a read transaction, so the count and the page see the same rows. */
export async function pageDeliveries(tx: SqlTx, filter: AlertDeliveryFilter, page: number, perPage: number): Promise<AlertDeliveryPage> {
  const { where, params } = deliveryWhere(filter);
  const counted = await tx.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM alert_deliveries${where}`, params);
  const total = Number(counted?.n ?? 0);
  const size = Math.max(1, Math.trunc(perPage));
  const offset = (Math.max(1, Math.trunc(page)) - 1) * size;
  // Past the end there is nothing to read. Checked first, so LIMIT and OFFSET stay below the row
  // count: an absurd page or size (any string of digits is a valid query) never reaches an engine
  // that cannot take it.
  if (!(offset < total)) return { rows: [], total };
  const rows = await tx.all<AlertDeliveryRow>(`SELECT * FROM alert_deliveries${where} ORDER BY ${DELIVERY_ORDER} LIMIT ? OFFSET ?`, [
    ...params,
    Math.min(size, total - offset),
    offset,
  ]);
  return { rows: rows.map(toAlertDelivery), total };
}

function deliveryWhere(filter: AlertDeliveryFilter): { where: string; params: SqlValue[] } {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    params.push(value);
  };
  add('account_id', filter.accountId);
  add('status', filter.status);
  add('policy_id', filter.policyId);
  add('webhook_id', filter.webhookId);
  add('certificate_id', filter.certificateId);
  return { where: conditions.length ? ' WHERE ' + conditions.join(' AND ') : '', params };
}

// ── helpers ──────────────────────────────────────────────────────────────────

async function assertAccount(tx: SqlTx, accountId: string): Promise<void> {
  if (!(await tx.get('SELECT 1 AS x FROM accounts WHERE id = ?', [accountId]))) throw new NotFoundError(`account ${accountId} not found`);
}

async function assertWebhooks(tx: SqlTx, accountId: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    if (!(await tx.get('SELECT 1 AS x FROM alert_webhooks WHERE account_id = ? AND id = ?', [accountId, id]))) {
      throw new NotFoundError(`webhook ${id} not found`);
    }
  }
}

async function writePolicyWebhooks(tx: SqlTx, policyId: string, webhookIds: string[]): Promise<void> {
  let seq = 0;
  for (const webhookId of webhookIds) {
    await tx.run('INSERT INTO alert_policy_webhooks (policy_id, webhook_id, seq) VALUES (?, ?, ?)', [policyId, webhookId, seq++]);
  }
}

/** Pending and not being sent right now; a leased row is left to its sender. */
function cancelWhere(tx: SqlTx, condition: string, params: SqlValue[], reason: string, at: number): Promise<number> {
  return tx.run(
    `UPDATE alert_deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = ?
     WHERE ${condition} AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)`,
    [reason, ...params, at],
  );
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
