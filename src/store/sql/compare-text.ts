// Result order for lists the store sorts itself: binary, the same on both engines (database
// collations differ).
// Tested in test/store/sqlite.test.ts and test/store/postgres.test.ts (test/store/contract.ts).

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
