import { swaggerUI } from "@hono/swagger-ui";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { onError } from "../../src/http/error-handler";
import { AppError } from "../../src/http/errors";
import { corsFromConfig, limitBody, noStoreByDefault, requireJsonBody, withConfig } from "../../src/http/middleware";
import { createRouter } from "../../src/http/openapi";
import { problemResponse } from "../../src/http/problem";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditRoutes } from "./routes/audit-log";
import { authRoutes } from "./routes/auth";
import { availabilityRoutes } from "./routes/availability";
import { liveRoutes, readyRoutes } from "./routes/health";
import { eventStatusRoutes } from "./routes/event-status";
import { eventRoutes } from "./routes/events";
import { fraudRoutes } from "./routes/fraud";
import { holdRoutes } from "./routes/holds";
import { orderRoutes } from "./routes/orders";
import { paymentRoutes } from "./routes/payments";
import { checkInRoutes } from "./routes/check-in";
import { refundRoutes } from "./routes/refunds";
import { transferRoutes } from "./routes/transfers";
import { waitlistRoutes } from "./routes/waitlist";
import { meRoutes } from "./routes/me";
import { platformRoutes } from "./routes/platform-tenants";
import { publicCatalogueRoutes } from "./routes/public-catalogue";
import { reportRoutes } from "./routes/reports";
import { tierRoutes } from "./routes/tiers";
import { userRoutes } from "./routes/users";
import { venueRoutes } from "./routes/venues";

export interface AppOptions {
  /** Injected clock (tests); defaults to Date.now. */
  clock?: () => number;
}

/** Composition root: middleware order, route modules, OpenAPI. Behaviour lives in the modules. */
export function createApp(options: AppOptions = {}) {
  const app = createRouter();

  app.use(requestId({ limitLength: 128 }));
  app.use(async (_c, next) => {
    // Hono hands only Error instances to onError; anything else thrown would escape as a
    // bare runtime 500. Wrap it so it too becomes a problem response.
    try {
      await next();
    } catch (thrown) {
      throw thrown instanceof Error ? thrown : new Error("non-Error value thrown", { cause: thrown });
    }
  });
  app.use(noStoreByDefault);
  app.use(
    secureHeaders({
      strictTransportSecurity: "max-age=63072000; includeSubDomains",
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
    }),
  );
  app.use(async (c, next) => {
    await next();
    // API responses are data, never documents; the docs page needs its CDN assets.
    if (c.req.path !== "/docs") c.res.headers.set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problemResponse(c, new AppError("METHOD_NOT_ALLOWED", `Use one of: ${methods.join(", ")}`, { headers: { allow: methods.join(", ") } })),
    }),
  );

  // Liveness does no I/O and does not depend on configuration being valid.
  app.route("/", liveRoutes);

  app.use(withConfig(options.clock));
  app.use(corsFromConfig);
  app.use(limitBody);
  app.use(requireJsonBody);

  app.route("/", readyRoutes);
  app.route("/", authRoutes);
  app.route("/", meRoutes);
  app.route("/", userRoutes);
  app.route("/", apiKeyRoutes);
  app.route("/", auditRoutes);
  app.route("/", platformRoutes);
  app.route("/", venueRoutes);
  app.route("/", eventRoutes);
  app.route("/", eventStatusRoutes);
  app.route("/", publicCatalogueRoutes);
  app.route("/", tierRoutes);
  app.route("/", holdRoutes);
  app.route("/", availabilityRoutes);
  app.route("/", orderRoutes);
  app.route("/", paymentRoutes);
  app.route("/", checkInRoutes);
  app.route("/", transferRoutes);
  app.route("/", refundRoutes);
  app.route("/", waitlistRoutes);
  app.route("/", reportRoutes);
  app.route("/", fraudRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "A JWT access token from /v1/auth/login, or a tenant API key (bok_...)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "platformKey", {
    type: "http",
    scheme: "bearer",
    description: "The platform admin key (secret PLATFORM_ADMIN_KEY)",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Boxoffice API",
      version: "0.1.0",
      description: "Multi-tenant ticketing. Errors are RFC 9457 problem details with a stable `code` and the `requestId`.",
    },
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "Boxoffice API" }));

  app.notFound((c) => problemResponse(c, new AppError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`)));
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
