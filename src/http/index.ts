// HTTP mode's public surface: start a Streamable HTTP server around an McpServer factory, or serve one
// from the command line's `--http` address and the environment's settings.

export { startHttpServer, DEFAULT_HTTP_LIMITS, MCP_PATH, HEALTH_PATH, PROTECTED_RESOURCE_PATH } from "./http-server.js";
export type { HttpServerOptions, HttpServerHandle, HttpLimits } from "./http-server.js";
export type { HttpAuthConfig } from "./auth.js";
export type { HttpLogger } from "./http-logger.js";
export { readHttpSettings, type HttpSettings } from "./http-settings.js";
export { parseListenAddress, httpListenFrom, isLoopbackHost, type ListenAddress } from "./listen-address.js";
export { serveHttp, type ServeHttpOptions } from "./serve-http.js";
export { BoundedEventStore, type EventStoreLimits } from "./event-store.js";
