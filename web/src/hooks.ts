// Shared hooks: live polling of API reads, and form/action state that puts an API failure next
// to the field it names (or next to the action when it names none).
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, CHANGED_EVENT, type Read } from './api.ts';
import { humanMessage, type FieldLabels } from './messages.ts';

/** Statuses move from pending_deployment to active within a second or two of an edge applying. */
export const POLL_MS = 1500;

export interface Access {
  canEdit: boolean;
  /** Why writes are disabled, shown next to the disabled buttons. */
  readOnlyReason: string | null;
}

export const AccessContext = createContext<Access>({ canEdit: true, readOnlyReason: null });

export function useAccess(): Access {
  return useContext(AccessContext);
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | null;
  loaded: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads now, every `intervalMs` (null: never again) while mounted, and after every change made
 * from this page (api.send); stale answers are dropped. Every load after the first is a refresh
 * (`read.refresh`), which the loader passes on to api.get.
 */
export function usePoll<T>(load: (read: Read) => Promise<T>, deps: unknown[], intervalMs: number | null = POLL_MS): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loaded: boolean }>({ data: undefined, error: null, loaded: false });
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);

  const run = useCallback(async (read: Read) => {
    const id = ++seq.current;
    try {
      const data = await loadRef.current(read);
      if (id === seq.current) setState({ data, error: null, loaded: true });
    } catch (err) {
      if (id === seq.current) setState((s) => ({ ...s, error: err instanceof Error ? err : new Error(String(err)), loaded: true }));
    }
  }, []);
  const reload = useCallback(() => run({ refresh: true }), []);

  useEffect(() => {
    setState({ data: undefined, error: null, loaded: false });
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const tick = async () => {
      if (!document.hidden) {
        await run({ refresh: !first });
        first = false;
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    const onChanged = () => void reload();
    addEventListener(CHANGED_EVENT, onChanged);
    return () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener(CHANGED_EVENT, onChanged);
      seq.current++;
    };
  }, deps); // the caller lists what the loader depends on

  return { ...state, reload };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export interface FormState {
  /** Messages by field name; `form` holds those that name no known field. */
  errors: Record<string, string>;
  busy: boolean;
  /** Runs `fn`; a failure lands on the field named by the API's pointer when it is one of `fields`. */
  submit: (fn: () => Promise<void>) => Promise<boolean>;
  setError: (field: string, message: string) => void;
  clear: () => void;
}

/**
 * `fields`: the wire names of the form's fields, or those names with the labels the form shows
 * them under, so a refusal reads in the form's words (messages.ts).
 */
export function useForm(fields: readonly string[] | FieldLabels = []): FormState {
  const names: readonly string[] = Array.isArray(fields) ? fields : Object.keys(fields);
  const labels: FieldLabels = Array.isArray(fields) ? {} : (fields as FieldLabels);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const submit = useCallback(
    async (fn: () => Promise<void>) => {
      setBusy(true);
      setErrors({});
      try {
        await fn();
        return true;
      } catch (err) {
        const field = err instanceof ApiFailure ? err.field : undefined;
        const key = field !== undefined && names.includes(field) ? field : 'form';
        setErrors({ [key]: humanMessage(err, labels) });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  const setError = useCallback((field: string, message: string) => setErrors({ [field]: message }), []);
  const clear = useCallback(() => setErrors({}), []);
  return { errors, busy, submit, setError, clear };
}
