// The API's refusals in the words of the form that caused them. The API names fields as the wire
// does ("body field name must NOT have fewer than 1 characters", "content must be an IPv4
// address…"); the page shows them beside a field labelled "Name" or "Origin address", so they are
// said again with that label. Messages that already speak to people pass through unchanged.
import { ApiFailure } from './api.ts';

/** Field name on the wire → the label the form shows. */
export type FieldLabels = Readonly<Record<string, string>>;

const SCHEMA = /^Invalid request: (?:body field|query parameter|path parameter|header) (\S+) (.+)$/;

function labelOf(path: string, labels: FieldLabels): string {
  const last = path.replace(/\[\d+\]/g, '').split('.').at(-1) ?? path;
  const label = labels[last] ?? last.replace(/_/g, ' ');
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** An Ajv complaint ("must NOT have fewer than 1 characters") as a sentence about `label`. */
function schemaProblem(label: string, problem: string): string {
  let m: RegExpExecArray | null;
  if (problem === 'is required') return `${label} is required.`;
  if ((m = /^must NOT have fewer than (\d+) characters$/.exec(problem))) return m[1] === '1' ? `${label} cannot be empty.` : `${label} needs at least ${m[1]} characters.`;
  if ((m = /^must NOT have more than (\d+) characters$/.exec(problem))) return `${label} is too long: at most ${m[1]} characters.`;
  if ((m = /^must NOT have fewer than (\d+) items$/.exec(problem))) return `Choose at least ${m[1] === '1' ? 'one' : m[1]}: ${label.toLowerCase()}.`;
  if ((m = /^must NOT have more than (\d+) items$/.exec(problem))) return `${label}: at most ${m[1]}.`;
  if (problem === 'must be integer' || problem === 'must be number') return `${label} must be a whole number.`;
  if ((m = /^must be >=? (-?\d+)$/.exec(problem))) return `${label} must be at least ${m[1]}.`;
  if ((m = /^must be <=? (-?\d+)$/.exec(problem))) return `${label} must be at most ${m[1]}.`;
  if ((m = /^must match format "(uri|url)"$/.exec(problem))) return `${label} must be a URL such as https://hooks.example.com/alerts.`;
  if ((m = /^must match format "([^"]+)"$/.exec(problem))) return `${label} must be a valid ${m[1]}.`;
  if (problem.startsWith('must match pattern')) return `${label} is not in the expected form.`;
  if ((m = /^must be one of (.+)$/.exec(problem))) return `${label} must be one of ${m[1]}.`;
  if ((m = /^must be (string|boolean|array|object|null)(?: or .+)?$/.exec(problem))) return `${label} has the wrong kind of value.`;
  return `${label} ${problem}.`;
}

/** Origin addresses: what to type instead, rather than what the record type demands. */
const CONTENT: [RegExp, string][] = [
  [/^content must be an IPv4 address/, 'Enter the origin’s IPv4 address, e.g. 192.0.2.10 (type AAAA takes IPv6, CNAME a host name).'],
  [/^content must be an IPv6 address/, 'Enter the origin’s IPv6 address, e.g. 2001:db8::10 (type A takes IPv4, CNAME a host name).'],
  [/^content must be a host name/, 'Enter the origin’s host name, e.g. origin.internal (type A takes an IPv4 address, AAAA an IPv6 one).'],
];

/** A certificate delete refused while hostnames use it; the API's text ends in the request to send. */
const IN_USE = /^Certificate \S+ is still associated with (.+?): remove the associations first/;

/** What to show for `err` beside a form whose fields are labelled `labels`. */
export function humanMessage(err: unknown, labels: FieldLabels = {}): string {
  if (!(err instanceof ApiFailure)) return err instanceof Error ? err.message : String(err);
  const message = err.message;
  const schema = SCHEMA.exec(message);
  if (schema) return schemaProblem(labelOf(schema[1], labels), schema[2]);
  const inUse = IN_USE.exec(message);
  if (inUse) {
    const hosts = inUse[1].split(', ');
    return `This certificate is still used by ${hosts.join(', ')}. Remove ${hosts.length === 1 ? 'that association' : 'those associations'} under Hostnames first, then delete it.`;
  }
  if (err.field === 'content') {
    const known = CONTENT.find(([re]) => re.test(message));
    if (known) return known[1];
  }
  // "url must use http or https…": the wire name first, then a sentence that reads well.
  const field = err.field;
  if (field !== undefined && labels[field] !== undefined && message.startsWith(`${field} `)) {
    return `${labelOf(field, labels)}${message.slice(field.length)}`;
  }
  return message;
}
