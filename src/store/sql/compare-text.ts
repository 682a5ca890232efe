// Result order for lists the store sorts itself: binary, the same on both engines (database
// collations differ).

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
