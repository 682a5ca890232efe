// A lint rule: no module of src/ may reach itself through its relative imports, type-only imports
// included (a type-level circle still ties the files together: none can be read, tested or moved
// alone). Each import is followed through the files on disk, so the rule sees the whole graph
// whichever file is being linted; the files' imports are read once per lint run.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const importsOf = new Map();

function relativeImports(file) {
  let list = importsOf.get(file);
  if (list !== undefined) return list;
  list = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A file that does not exist is the type checker's to report.
  }
  // Comments may quote imports that do not exist.
  text = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.endsWith('.ts')) list.push(resolve(dirname(file), spec));
  }
  importsOf.set(file, list);
  return list;
}

/** A path of imports from `start` back to `target`, or null. */
function pathBack(start, target) {
  const seen = new Set([start]);
  const queue = [[start]];
  while (queue.length > 0) {
    const path = queue.shift();
    for (const next of relativeImports(path[path.length - 1])) {
      if (next === target) return path;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([...path, next]);
      }
    }
  }
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles between modules (type-only imports included)' },
    schema: [],
    messages: { cycle: 'import cycle: {{path}}' },
  },
  create(context) {
    const file = resolve(context.filename);
    const root = context.cwd;
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.') || !spec.endsWith('.ts')) return;
      const target = resolve(dirname(file), spec);
      const back = pathBack(target, file);
      if (back !== null) context.report({ node, messageId: 'cycle', data: { path: [file, ...back, file].map((f) => relative(root, f)).join(' → ') } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};
