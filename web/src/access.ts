// What a token may do: the API's verify answer carries the token's permission and zones. A 403 on a
// write that says the token may only read is still honoured (see app.ts), should a server say less.
import { type ApiFailure, request } from './api.ts';
import type { TokenVerify } from './types.ts';

export interface TokenInfo {
  id: string;
  permission: 'read' | 'edit' | 'unknown';
  admin: boolean;
  /** Zone ids the token is limited to; null for every zone; undefined when unknown. */
  zones: string[] | null | undefined;
}

export async function verifyToken(token: string): Promise<TokenInfo> {
  const verify = (await request<TokenVerify>('GET', '/user/tokens/verify', undefined, token)).result;
  const permission = verify.permission === 'read' || verify.permission === 'edit' ? verify.permission : 'unknown';
  return { id: verify.id, permission, admin: verify.admin === true, zones: verify.zones };
}

/** A 403 on a write that says the token may only read. */
export function isReadOnlyRefusal(failure: ApiFailure): boolean {
  return failure.status === 403 && failure.isWrite && /\bonly read\b|read[- ]only/i.test(failure.message);
}
