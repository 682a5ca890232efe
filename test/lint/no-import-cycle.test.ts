// The lint rule that keeps src/ free of import circles (eslint-rules/no-import-cycle.js), on a
// throw-away tree: a circle made of type-only imports is found, a chain is not, and comments that
// quote an import do not count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import noImportCycle from '../../eslint-rules/no-import-cycle.js';

async function lint(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-cycles-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const eslint = new ESLint({
      cwd: dir,
      overrideConfigFile: true,
      overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { local: { rules: { 'no-import-cycle': noImportCycle } } }, rules: { 'local/no-import-cycle': 'error' } }],
    });
    const results = await eslint.lintFiles(['*.ts']);
    return results.flatMap((r) => r.messages.map((m) => m.message)).sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a circle of type-only imports is reported from each of its files', async () => {
  const messages = await lint({
    'a.ts': "import type { B } from './b.ts';\nexport interface A { b: B }\n",
    'b.ts': "import type { C } from './c.ts';\nexport interface B { c: C }\n",
    'c.ts': "import type { A } from './a.ts';\nexport interface C { a: A }\n",
  });
  assert.equal(messages.length, 3);
  assert.match(messages[0], /^import cycle: a\.ts → b\.ts → c\.ts → a\.ts$/);
});

test('a chain is no circle, and an import quoted in a comment is not followed', async () => {
  const messages = await lint({
    'a.ts': "import { b } from './b.ts';\nexport const a = b + 1;\n",
    'b.ts': "// was: import { a } from './a.ts';\nexport const b = 1;\n",
  });
  assert.deepEqual(messages, []);
});
