import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, ERROR_CATALOG, problemType, type ErrorCode, type FieldError } from "./errors";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

/** Render an AppError as RFC 9457 problem+json. Only catalogued fields leave the worker. */
export function problemResponse(c: Context, err: AppError): Response {
  const { errors, headers, ...extras } = err.extras;
  const body: ProblemBody = {
    type: problemType(err.code),
    title: ERROR_CATALOG[err.code].title,
    status: err.status,
    ...(err.detail ? { detail: err.detail } : {}),
    instance: new URL(c.req.url).pathname,
    code: err.code,
    requestId: (c.get("requestId") as string | undefined) ?? "unknown",
    ...(errors && errors.length ? { errors } : {}),
    ...extras,
  };
  c.header("content-type", "application/problem+json");
  c.header("cache-control", "no-store");
  for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
  return c.body(JSON.stringify(body), err.status as ContentfulStatusCode);
}
