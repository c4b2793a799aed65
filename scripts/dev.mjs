// `npm start`: local development for both workers in one wrangler process.
//   1. make sure .dev.vars exists (scripts/dev-vars.mjs)      2. apply D1 migrations locally
//   3. wrangler dev with the API and the minter configs        4. seed the demo tenant, print a banner
// Plain Node ESM without dependencies. Run it through npm (node_modules/.bin/node is Node 24;
// wrangler refuses Node < 22.12). Importing this module has no side effects (see the bottom).
import { spawn, spawnSync } from "node:child_process";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensureDevVars } from "./dev-vars.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const LIVE_TIMEOUT_MS = 90_000;

export const DEMO = { slug: "demo", name: "Demo Events", email: "owner@demo.test", ownerName: "Demo Owner" };

export function seedRequestBody(password) {
  return { slug: DEMO.slug, name: DEMO.name, owner: { email: DEMO.email, name: DEMO.ownerName, password } };
}

/** Classify the response of POST /v1/platform/tenants. `body` is parsed JSON or raw text. */
export function seedOutcome(status, body) {
  if (status === 201) return { ok: true, state: "created" };
  if (status === 409 && body?.code === "TENANT_SLUG_TAKEN") return { ok: true, state: "already seeded" };
  const detail = typeof body === "string" ? body : JSON.stringify(body, null, 2);
  return { ok: false, state: `seeding FAILED (HTTP ${status})`, detail };
}

export function banner({ baseUrl, adminKey, password, state }) {
  const login = JSON.stringify({ tenant: DEMO.slug, email: DEMO.email, password });
  const lines = [
    "",
    "──────────────────────────── Boxoffice local dev ────────────────────────────",
    `  API              ${baseUrl}`,
    `  Docs             ${baseUrl}/docs`,
    `  OpenAPI          ${baseUrl}/openapi.json`,
    `  Platform key     ${adminKey}`,
    `                   (Authorization: Bearer <key> on /v1/platform/*)`,
    `  Demo tenant      ${DEMO.slug}  (${state})`,
    `  Owner login      ${DEMO.email}`,
    `  Owner password   ${password}`,
    "",
    "  Log in:",
    `    curl -sS -X POST ${baseUrl}/v1/auth/login \\`,
    `      -H 'content-type: application/json' \\`,
    `      -d '${login}'`,
  ];
  if (state === "already seeded") {
    lines.push(
      "",
      "  The tenant existed already: its password is the one .dev.vars held when it was",
      "  first seeded. If login fails, reset local data: rm -rf .wrangler/state && npm start",
    );
  }
  lines.push("──────────────────────────────────────────────────────────────────────────────", "");
  return lines.join("\n");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until GET url answers 200. Gives up at the deadline or when shouldStop() says so. */
export async function waitForLive(url, { timeoutMs = LIVE_TIMEOUT_MS, intervalMs = 500, shouldStop = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !shouldStop()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  return false;
}

export async function seedDemoTenant(baseUrl, adminKey, password) {
  const res = await fetch(`${baseUrl}/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(seedRequestBody(password)),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the raw text
  }
  return seedOutcome(res.status, body);
}

function wrangler(args, options) {
  return [process.execPath, [WRANGLER, ...args], { cwd: ROOT, ...options }];
}

async function main() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    console.error(`dev: Node ${process.versions.node} is too old for wrangler (needs >= 22.12). Use \`npm start\`,`);
    console.error("     which runs node_modules/.bin/node (Node 24, installed by `npm install`).");
    process.exit(1);
  }
  const port = process.env.PORT || "8787";
  if (!/^\d{1,5}$/.test(port)) {
    console.error(`dev: PORT must be a number, got ${JSON.stringify(port)}`);
    process.exit(1);
  }
  const baseUrl = `http://127.0.0.1:${port}`;

  const devVarsPath = join(ROOT, ".dev.vars");
  const { created, added, vars } = ensureDevVars(devVarsPath);
  if (created) console.log(`dev: wrote .dev.vars with fresh local secrets (${added.join(", ")})`);
  else if (added.length) console.log(`dev: appended missing names to .dev.vars: ${added.join(", ")}`);

  console.log("dev: applying D1 migrations locally");
  const migrate = spawnSync(...wrangler(["d1", "migrations", "apply", "DB", "--local"], {
    stdio: "inherit",
    env: { ...process.env, CI: "true" },
  }));
  if (migrate.status !== 0) {
    console.error(`dev: migrations failed (${migrate.error?.message ?? `exit ${migrate.status ?? migrate.signal}`})`);
    process.exit(migrate.status || 1);
  }

  // Both configs in one process: that is the only way a local queue links the two workers.
  const devArgs = ["dev", "-c", "wrangler.toml", "-c", "workers/minter/wrangler.toml", "--port", port, "--ip", "127.0.0.1"];
  const child = spawn(...wrangler(devArgs, { stdio: "inherit" }));
  let exited = false;
  child.on("error", (err) => {
    console.error(`dev: could not start wrangler: ${err.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    exited = true;
    process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));

  if (!(await waitForLive(`${baseUrl}/health/live`, { shouldStop: () => exited }))) {
    if (!exited) console.error(`dev: ${baseUrl}/health/live did not answer 200 within ${LIVE_TIMEOUT_MS / 1000}s; not seeding.`);
    return;
  }
  let outcome;
  try {
    outcome = await seedDemoTenant(baseUrl, vars.PLATFORM_ADMIN_KEY, vars.DEMO_OWNER_PASSWORD);
  } catch (err) {
    outcome = { ok: false, state: "seeding FAILED", detail: String(err?.message ?? err) };
  }
  if (!outcome.ok) console.error(`dev: ${outcome.state}; wrangler keeps running.\n${outcome.detail}`);
  console.log(banner({ baseUrl, adminKey: vars.PLATFORM_ADMIN_KEY, password: vars.DEMO_OWNER_PASSWORD, state: outcome.state }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
