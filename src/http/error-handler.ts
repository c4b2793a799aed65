import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorFields, log } from "../observability/logger";
import type { AppEnv } from "./context";
import { AppError, type ErrorCode } from "./errors";
import { problemResponse } from "./problem";

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "MALFORMED_JSON",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/**
 * The one place errors become responses. AppErrors render as themselves; Hono's own
 * HTTPExceptions (validator media-type gate, malformed JSON) map to our codes;
 * anything else is logged with its stack and answered as a bare INTERNAL problem:
 * no message, no stack, nothing internal leaves the worker.
 */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof AppError) {
    if (err.status >= 500) log("error", "request failed", { code: err.code, requestId: c.get("requestId"), path: c.req.path });
    return problemResponse(c, err);
  }
  if (err instanceof HTTPException && HTTP_EXCEPTION_CODES[err.status]) {
    return problemResponse(c, new AppError(HTTP_EXCEPTION_CODES[err.status]!));
  }
  log("error", "unhandled error", { requestId: c.get("requestId"), method: c.req.method, path: c.req.path, ...errorFields(err) });
  return problemResponse(c, new AppError("INTERNAL", "An unexpected error occurred. Quote the request id when reporting it."));
}
