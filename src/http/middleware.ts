import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { ConfigError, loadConfig } from "../config/env";
import { createDb } from "../db/client";
import { log } from "../observability/logger";
import type { AppEnv } from "./context";
import { AppError } from "./errors";

/** Validates config once per isolate and puts config, db and the clock on the context. */
export const withConfig = (clock: () => number = Date.now): MiddlewareHandler<AppEnv> =>
  async function withConfig(c, next) {
    try {
      const config = loadConfig(c.env);
      c.set("config", config);
      c.set("db", createDb(config.DB));
      c.set("now", clock);
    } catch (err) {
      if (err instanceof ConfigError) {
        log("error", "configuration invalid", { problems: err.problems, requestId: c.get("requestId") });
        throw new AppError("CONFIG_INVALID", "The service is misconfigured; the operator has been told.");
      }
      throw err;
    }
    await next();
  };

/** CORS from CORS_ORIGINS (comma-separated; `*` allows any origin, without credentials). */
export const corsFromConfig: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origins = c.var.config.CORS_ORIGINS;
  return cors({
    origin: origins.includes("*") ? "*" : origins,
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID", "traceparent"],
    exposeHeaders: ["X-Request-ID", "ETag", "Retry-After", "Location", "X-Cache", "Idempotency-Replayed"],
    maxAge: 600,
  })(c, next);
};

/** Responses are uncacheable unless a route opts in by setting Cache-Control itself. */
export const noStoreByDefault: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const mutating = !["GET", "HEAD", "OPTIONS"].includes(c.req.method);
  if (mutating || c.res.status >= 400 || !c.res.headers.has("cache-control")) {
    c.res.headers.set("cache-control", "no-store");
  }
};

export const limitBody: MiddlewareHandler<AppEnv> = async (c, next) =>
  bodyLimit({
    maxSize: c.var.config.MAX_BODY_BYTES,
    onError: () => {
      throw new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${c.var.config.MAX_BODY_BYTES} bytes`);
    },
  })(c, next);

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Bodies must be JSON (415 otherwise) and well-formed (400 MALFORMED_JSON). The
 * parsed body is cached by Hono, so the route validator reads it without reparsing.
 */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!BODY_METHODS.has(c.req.method)) return next();
  const length = c.req.header("content-length");
  const hasBody = c.req.raw.body !== null && length !== "0";
  if (!hasBody) return next();
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Request bodies must be application/json");
  }
  const text = await c.req.text();
  if (text.length === 0) return next();
  try {
    JSON.parse(text);
  } catch {
    throw new AppError("MALFORMED_JSON", "The request body is not valid JSON");
  }
  await next();
};
