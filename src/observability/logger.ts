/**
 * Structured JSON logs (Workers Logs indexes JSON fields). Anything whose key
 * looks secret is redacted before it is written, however deep it sits.
 */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|^key$|^d$/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

type Level = "debug" | "info" | "warn" | "error";

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...(redact(fields) as object) });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

// drizzle's "Failed query: <sql>\nparams: <values>" carries bound values (emails, token
// hashes, email bodies with one-time links): keep the SQL, drop the values.
const scrubParams = (text: string | undefined) => text?.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/g, "\nparams: [redacted]");

export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.name, errorMessage: scrubParams(err.message), stack: scrubParams(err.stack) };
  return { error: "non-Error thrown" };
}
