import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "./context";
import { AppError, ERROR_CATALOG, type ErrorCode, type FieldError } from "./errors";

/** Validator targets → the prefixes clients see in `errors[].field`. */
const FIELD_PREFIX: Record<string, string> = { json: "body", param: "params", query: "query", header: "headers", form: "body" };

/** zod issues → field errors, one per offending field (unknown keys listed individually). */
export function fieldErrors(target: string, error: ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = [FIELD_PREFIX[target] ?? target, ...issue.path.map(String)].join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ field: `${base}.${key}`, message: "Unknown field" });
    } else {
      out.push({ field: base, message: issue.message });
    }
  }
  return out;
}

/** Every route's validation failure becomes a VALIDATION_FAILED problem listing the fields. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError("VALIDATION_FAILED", "One or more fields are invalid", {
          errors: fieldErrors(result.target, result.error),
        });
      }
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string(),
    code: z.enum(Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

const problemContent = { "application/problem+json": { schema: ProblemSchema } };

/**
 * OpenAPI responses for the given error codes, grouped by status. Every route
 * lists its errors; VALIDATION_FAILED and INTERNAL are implied everywhere.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const all = new Set<ErrorCode>([...codes, "VALIDATION_FAILED", "INTERNAL"]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of all) {
    const status = ERROR_CATALOG[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<number, { description: string; content: typeof problemContent }> = {};
  for (const [status, list] of byStatus) {
    responses[status] = { description: `Problem details; code one of: ${list.join(", ")}`, content: problemContent };
  }
  return responses;
}

/** Errors every authenticated tenant route can answer. */
export const AUTH_ERRORS: ErrorCode[] = ["UNAUTHENTICATED", "TOKEN_INVALID", "FORBIDDEN", "INSUFFICIENT_SCOPE"];
/** Errors of any route that takes a JSON body. */
export const BODY_ERRORS: ErrorCode[] = ["MALFORMED_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const bearerAuth = [{ bearerAuth: [] as string[] }];
export const platformAuth = [{ platformKey: [] as string[] }];
