import { createRouter } from "../../../src/http/openapi";

// Placeholder router: filled in by the events issue (issue 3).
export const eventStatusRoutes = createRouter();
