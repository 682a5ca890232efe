// The layering of src/ (docs/architecture.md, "Layers") as eslint.config.js enforces it: each
// boundary refuses a crossing and lets the allowed import through, in files at every depth the
// rules are written for (a folder's subfolders, such as edge/http1/ and api/alerting/, included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The no-restricted-imports messages for `code` as if it were the file at `path` (relative to the root). */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { file: string; imports: string; refused: RegExp | null }[] = [
  { file: 'src/domain/probe.ts', imports: '../edge/index.ts', refused: /domain\/ is pure/ },
  { file: 'src/edge/probe.ts', imports: '../store/index.ts', refused: /never imports store/ },
  { file: 'src/edge/http1/probe.ts', imports: '../../sync/index.ts', refused: /never imports store\/, api\/, sync\// },
  { file: 'src/edge/http1/probe.ts', imports: '../../domain/types.ts', refused: /through its index\.ts/ },
  { file: 'src/edge/http1/probe.ts', imports: '../../domain/index.ts', refused: null },
  { file: 'src/edge/http1/probe.ts', imports: '../headers.ts', refused: null },
  { file: 'src/api/probe.ts', imports: '../edge/index.ts', refused: /talks to the store only/ },
  { file: 'src/api/alerting/probe.ts', imports: '../../store/sql/alerting.ts', refused: /through its index\.ts/ },
  { file: 'src/api/alerting/probe.ts', imports: '../../store/index.ts', refused: null },
  { file: 'src/sync/probe.ts', imports: '../edge/snapshot.ts', refused: /through its index\.ts/ },
  { file: 'src/sync/probe.ts', imports: '../edge/index.ts', refused: null },
];

for (const c of cases) {
  test(`${c.file} importing ${c.imports}: ${c.refused === null ? 'allowed' : 'refused'}`, async () => {
    const messages = await restricted(c.file, `import * as m from '${c.imports}';\nexport const probe = m;\n`);
    if (c.refused === null) assert.deepEqual(messages, []);
    else assert.ok(messages.some((m) => c.refused!.test(m)), JSON.stringify(messages));
  });
}
