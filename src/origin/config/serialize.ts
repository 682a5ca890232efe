// Just enough YAML and TOML to write a Traefik dynamic configuration: nested maps, lists of
// scalars and lists of maps. Strings are always double-quoted (valid in both languages).
// Tested in test/origin/config/traefik.test.ts.

export type Scalar = string | number | boolean;
export type Value = Scalar | Value[] | { [key: string]: Value };
export type Table = { [key: string]: Value };

function isTable(v: Value): v is Table {
  return typeof v === 'object' && !Array.isArray(v);
}

function scalar(v: Scalar): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function key(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

export function toYaml(value: Table, indent = ''): string {
  let out = '';
  for (const [k, v] of Object.entries(value)) {
    if (isTable(v)) out += `${indent}${key(k)}:\n${toYaml(v, indent + '  ')}`;
    else if (Array.isArray(v)) {
      out += `${indent}${key(k)}:\n`;
      for (const item of v) {
        if (isTable(item)) {
          // "- " then the map's first key on the same line, the rest aligned under it.
          const body = toYaml(item, indent + '    ');
          out += `${indent}  - ${body.slice(indent.length + 4)}`;
        } else if (Array.isArray(item)) throw new Error('nested lists are not supported');
        else out += `${indent}  - ${scalar(item)}\n`;
      }
    } else out += `${indent}${key(k)}: ${scalar(v)}\n`;
  }
  return out;
}

export function toToml(value: Table, path: string[] = []): string {
  let out = '';
  const nested: [string, Value][] = [];
  for (const [k, v] of Object.entries(value)) {
    if (isTable(v) || (Array.isArray(v) && v.some(isTable))) nested.push([k, v]);
    else if (Array.isArray(v)) out += `${key(k)} = [${v.map((x) => scalar(x as Scalar)).join(', ')}]\n`;
    else out += `${key(k)} = ${scalar(v)}\n`;
  }
  for (const [k, v] of nested) {
    const p = [...path, key(k)];
    if (Array.isArray(v)) {
      for (const item of v) out += `\n[[${p.join('.')}]]\n${toToml(item as Table, p).replace(/^\n/, '')}`;
    } else {
      const body = toToml(v as Table, p);
      // A table holding only sub-tables needs no header of its own.
      const hasOwn = Object.values(v as Table).some((x) => !isTable(x) && !(Array.isArray(x) && x.some(isTable)));
      out += hasOwn ? `\n[${p.join('.')}]\n${body.replace(/^\n/, '')}` : body;
    }
  }
  return out;
}
