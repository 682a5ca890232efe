// Lint rules: typescript-eslint's recommended set plus the house rules that a type check does not catch,
// including the layering of src/ (docs/architecture.md, "Layers").
import tseslint from 'typescript-eslint';
import noImportCycle from './eslint-rules/no-import-cycle.js';

/** Imports of another folder of src/ other than its index.ts, from a file `depth` folders below src/. */
function throughIndexOnly(depth) {
  const up = '../'.repeat(depth);
  // Paths that leave src/ (package.json) are not folders of src/.
  return { group: [`${up}*/*`, `${up}*/*/**`, `!${up}*/index.ts`, `!${up}../**`], message: 'import another folder through its index.ts' };
}

/** Imports of the given folders of src/, from a file one folder below src/. */
function noImportOf(folders, why) {
  return { group: folders.flatMap((f) => [`../${f}/*`, `../../${f}/*`]), message: why };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'web/dist/**', 'data/**', 'bench/.work/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
    },
  },
  // No module of src/ reaches itself through its imports, type-only ones included.
  { files: ['src/**/*.ts'], plugins: { local: { rules: { 'no-import-cycle': noImportCycle } } }, rules: { 'local/no-import-cycle': 'error' } },
  { files: ['src/*/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [throughIndexOnly(1)] }] } },
  { files: ['src/*/*/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [throughIndexOnly(2)] }] } },
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['../*'], message: 'domain/ is pure: it imports no other folder of src/' }] }] },
  },
  {
    files: ['src/edge/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [throughIndexOnly(1), noImportOf(['store', 'api', 'sync', 'cli'], 'edge/ serves a Snapshot: it never imports store/, api/, sync/ or cli/')] },
      ],
    },
  },
  {
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [throughIndexOnly(1), noImportOf(['edge', 'sync', 'cli'], 'api/ talks to the store only: it never imports edge/, sync/ or cli/')] },
      ],
    },
  },
  // The edge/ block replaces the depth-2 rule for edge/'s subfolders (edge/http1/): both checks again.
  {
    files: ['src/edge/*/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [throughIndexOnly(2), noImportOf(['store', 'api', 'sync', 'cli'], 'edge/ serves a Snapshot: it never imports store/, api/, sync/ or cli/')] },
      ],
    },
  },
  // The block above replaces the depth-2 rule for api/'s subfolders (api/alerting/): both checks again.
  {
    files: ['src/api/*/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [throughIndexOnly(2), noImportOf(['edge', 'sync', 'cli'], 'api/ talks to the store only: it never imports edge/, sync/ or cli/')] },
      ],
    },
  },
);
