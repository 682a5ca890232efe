// What the alerting v3 resources share: the base path, the route options, the account every route
// is scoped to and the common schema pieces.
// Tested in test/api/alerting.test.ts (account-level routes) and test/api/alerting-sdk.test.ts.
import { Type } from '@sinclair/typebox';
import type { Account } from '../../domain/index.ts';
import type { ApiContext } from '../context.ts';
import { API_ERRORS, ApiError, type ErrorDef } from '../errors.ts';

export const BASE = '/accounts/:account_id/alerting/v3';
export const tags = ['Notifications'];
/** Account-level: only tokens not limited to zones may use these routes. */
export const config = { auth: 'account' as const };

export const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });
export const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

export const AccountParams = Type.Object({ account_id: Type.String() });
export const IdResult = Type.Object({ id: Type.String() });

export async function loadAccount(ctx: ApiContext, accountId: string): Promise<Account> {
  const account = await ctx.store.getAccount(accountId);
  if (!account) throw new ApiError(API_ERRORS.accountNotFound, `Account not found: ${accountId}`);
  return account;
}

export function invalid(def: ErrorDef, message: string, pointer: string): ApiError {
  return new ApiError(def, message, { pointer });
}
