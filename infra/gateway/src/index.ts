export { buildGateway, requestIdFrom, REQUEST_ID_HEADER, type BuildGatewayOptions } from './app.ts';
export {
  ConfigError,
  loadConfig,
  serviceTargets,
  type GatewayConfig,
  type RouteConfig,
  type ServiceTarget,
} from './config.ts';
export {
  matchesPrefix,
  mergeOpenApiDocuments,
  type MergeOptions,
  type OpenApiDocument,
  type ServiceDocument,
} from './openapi-merge.ts';
export { GatewayError, problem, type Problem } from './problem.ts';
