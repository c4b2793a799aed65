import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export interface CallOptions {
  body?: unknown;
  /** Sent as-is (string) instead of JSON-encoding `body`. */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Method, headers and body of a request as `call` and `callApp` send it. */
export function requestInit(method: string, opts: CallOptions = {}): RequestInit {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return { method, headers, body };
}

export async function readResult<T = any>(res: Response): Promise<CallResult<T>> {
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export const BASE_URL = "https://api.boxoffice.test";

/** Calls the real API worker (workers/api/index.ts) through its default export. */
export async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<CallResult<T>> {
  return readResult<T>(await exports.default.fetch(`${BASE_URL}${path}`, requestInit(method, opts)));
}

/** Asserts an RFC 9457 problem response with our envelope and nothing internal in it. */
export function expectProblem(res: CallResult, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const b = res.body;
  expect(b).toMatchObject({ status, code, type: expect.stringMatching(/^https:\/\//), title: expect.any(String), instance: expect.any(String) });
  expect(b.requestId).toBe(res.headers.get("x-request-id"));
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack/i);
  return b as { status: number; code: string; detail?: string; errors?: { field: string; message: string }[]; [k: string]: unknown };
}
