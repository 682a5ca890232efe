// Every module's tests can be found (CONTRIBUTING.md, "Finding a module's test"): `src/x/y.ts` has
// `test/x/y.test.ts`, or its header comment says `Tested in …` and names test files that exist.
// Barrels (an index.ts that only re-exports) are exempt. The check runs on the real tree, and first
// on a throw-away one so that what it reports is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Only `export … from '…'` statements (and comments): nothing of its own to test. */
function isBarrel(path: string, text: string): boolean {
  if (posix.basename(path) !== 'index.ts') return false;
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const rest = code.replace(/export\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+'[^']+';/g, '');
  return rest.trim() === '';
}

/** The leading `//` lines, markers stripped, as one line of text. */
function headerComment(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/\s?/, ''));
  }
  return lines.join(' ');
}

/**
 * The test paths the header's "tested in" part names. A bare `name.test.ts` after a full path is
 * that path's sibling (`test/edge/http2.test.ts, http2-abuse.test.ts`). Null without the words.
 */
function namedTests(header: string): string[] | null {
  const at = header.search(/tested in/i);
  if (at < 0) return null;
  const paths: string[] = [];
  let folder: string | null = null;
  for (const [token] of header.slice(at).matchAll(/[\w./-]+\.ts\b/g)) {
    if (token.startsWith('test/')) {
      paths.push(token);
      folder = posix.dirname(token);
    } else if (!token.includes('/') && token.endsWith('.test.ts') && folder !== null) {
      paths.push(posix.join(folder, token));
    }
  }
  return paths;
}

interface Findings {
  /** Modules with neither a same-named test file nor a "tested in" line naming a test. */
  untested: string[];
  /** `module: path` for each named test path that does not exist. */
  missingPaths: string[];
}

function check(root: string): Findings {
  const untested: string[] = [];
  const missingPaths: string[] = [];
  const modules = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .map((p) => p.split('\\').join('/'))
    .filter((p) => p.endsWith('.ts'))
    .sort();
  for (const rel of modules) {
    const module = `src/${rel}`;
    const text = readFileSync(join(root, module), 'utf8');
    if (isBarrel(module, text)) continue;
    const named = namedTests(headerComment(text));
    for (const path of named ?? []) if (!existsSync(join(root, path))) missingPaths.push(`${module}: ${path}`);
    const sameNamed = existsSync(join(root, 'test', rel.replace(/\.ts$/, '.test.ts')));
    if (!sameNamed && (named === null || named.length === 0)) untested.push(module);
  }
  return { untested, missingPaths };
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-findable-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('the check on a throw-away tree: what it accepts, what it reports, barrels exempt', () => {
  const dir = tree({
    'src/a/same-named.ts': 'export const a = 1;\n',
    'test/a/same-named.test.ts': '',
    'src/a/pointed.ts': '// Does one thing.\n// Tested in test/b/wide.test.ts and narrow.test.ts.\nexport const b = 1;\n',
    'test/b/wide.test.ts': '',
    'test/b/narrow.test.ts': '',
    'src/a/silent.ts': '// Does one thing.\nexport const c = 1;\n',
    'src/a/deep-mention.ts': '// Does one thing.\nexport const d = 1;\n// Tested in test/b/wide.test.ts.\n',
    'src/a/no-path.ts': '// Tested in the browser.\nexport const e = 1;\n',
    'src/a/stale.ts': '// Tested in test/b/wide.test.ts and test/b/gone.test.ts, and gone-too.test.ts.\nexport const f = 1;\n',
    'src/a/index.ts': "// The folder's face.\nexport { a } from './same-named.ts';\nexport type * from './pointed.ts';\n",
    'src/c/index.ts': "import { a } from '../a/index.ts';\nexport const g = a + 1;\n",
  });
  try {
    assert.deepEqual(check(dir), {
      untested: ['src/a/deep-mention.ts', 'src/a/no-path.ts', 'src/a/silent.ts', 'src/c/index.ts'],
      missingPaths: ['src/a/stale.ts: test/b/gone.test.ts', 'src/a/stale.ts: test/b/gone-too.test.ts'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every module of src/ has a same-named test file or a "tested in" line naming its tests', () => {
  const { untested } = check(ROOT);
  assert.deepEqual(untested, [], `add test/<same path>.test.ts, or a "// Tested in test/….test.ts." line to the header of:\n  ${untested.join('\n  ')}`);
});

test('every test a "tested in" line names exists', () => {
  const { missingPaths } = check(ROOT);
  assert.deepEqual(missingPaths, [], `these "tested in" lines name files that do not exist:\n  ${missingPaths.join('\n  ')}`);
});
