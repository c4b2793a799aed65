import type { Context } from "hono";
import { AppError } from "./errors";

/** Strong ETag of a versioned resource. */
export const etagOf = (version: number) => `"v${version}"`;

/**
 * The version a write expects: from `If-Match` (an ETag this API issued) or from a
 * `version` field in the body. Without either, the write is refused (428): updates
 * must say what they are updating, so concurrent edits cannot silently overwrite.
 * When both are sent they must agree.
 */
export function expectedVersion(c: Context, bodyVersion: number | undefined): number {
  const header = c.req.header("if-match");
  let fromHeader: number | undefined;
  if (header !== undefined) {
    const m = /^\s*(?:W\/)?"v(\d{1,9})"\s*$/.exec(header);
    if (!m) {
      throw new AppError("VALIDATION_FAILED", "If-Match must be an ETag this API returned, e.g. \"v3\"", {
        errors: [{ field: "headers.if-match", message: "Not an ETag of this API" }],
      });
    }
    fromHeader = Number(m[1]);
  }
  if (fromHeader !== undefined && bodyVersion !== undefined && fromHeader !== bodyVersion) {
    throw new AppError("VALIDATION_FAILED", "If-Match and body version disagree", {
      errors: [{ field: "body.version", message: "Does not match If-Match" }],
    });
  }
  const v = fromHeader ?? bodyVersion;
  if (v === undefined) throw new AppError("PRECONDITION_REQUIRED");
  return v;
}

/** The refusal of a stale write, carrying what the client needs to retry. */
export function staleVersion(c: Context, currentVersion: number): AppError {
  const viaHeader = c.req.header("if-match") !== undefined;
  return new AppError(viaHeader ? "PRECONDITION_FAILED" : "VERSION_CONFLICT", `The current version is ${currentVersion}`, {
    currentVersion,
    headers: { etag: etagOf(currentVersion) },
  });
}
