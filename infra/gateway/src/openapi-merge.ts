/**
 * Merges the OpenAPI 3 documents of the services behind the gateway into one document.
 * Pure: no I/O, inputs are never mutated, output is deterministic for the same inputs.
 *
 * Rules:
 * - Paths: a service contributes only the paths the gateway actually routes to it, i.e. the
 *   paths whose most specific matching route prefix (as the router picks it: `:name` segments of a
 *   prefix match `{name}` segments of a path) belongs to that service. Service paths are already
 *   full public paths (the gateway does not rewrite prefixes); a service's own `/healthz`,
 *   `/readyz`, `/docs/json` are not reachable through the gateway and are dropped.
 * - Coverage: a route prefix of an available service under which no kept path lies is listed in
 *   `x-undocumented-prefixes` (the gateway forwards requests there that no one documented).
 * - Components (`schemas`, `responses`, `parameters`, ...): only those reachable from the kept
 *   paths are included (security schemes always are). A name defined identically by several
 *   services is kept once; a name defined differently is namespaced `<service>.<Name>` in every
 *   service that defines it, and that service's `$ref`s (and security requirements) are rewritten.
 * - Tags: untagged operations are tagged with the service name; tags no kept operation uses are
 *   dropped; a tag name used by several services is namespaced `<service>.<tag>`. Every tag carries `x-service`, and `x-tagGroups`
 *   groups tags per service. Duplicate `operationId`s are namespaced `<service>.<operationId>`.
 * - A service-level `security` requirement is pushed down to its operations that have none.
 * - A service whose document is missing or invalid is listed in `x-unavailable-services`; the
 *   result is still a valid document.
 */

import { bestPrefix } from './paths.ts';

export { matchesPrefix } from './paths.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ServiceDocument {
  /** Service name, e.g. `identity`. */
  readonly service: string;
  /** Public path prefixes the gateway routes to this service. */
  readonly prefixes: readonly string[];
  /** The service's OpenAPI document as fetched, or undefined when it could not be fetched. */
  readonly document?: unknown;
  /** Why the document is missing (safe to publish, e.g. `unreachable`, `timeout`, `HTTP 500`). */
  readonly unavailableReason?: string;
}

export interface UnavailableService {
  readonly service: string;
  readonly reason: string;
}

export interface MergedServiceInfo {
  readonly name: string;
  readonly available: boolean;
  readonly title?: string;
  readonly version?: string;
  readonly prefixes: readonly string[];
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers: { url: string; description?: string }[];
  paths: JsonObject;
  components?: JsonObject;
  tags: JsonObject[];
  'x-tagGroups': { name: string; tags: string[] }[];
  'x-services': MergedServiceInfo[];
  'x-unavailable-services': UnavailableService[];
  /** Forwarded prefixes of available services that have no documented operation. */
  'x-undocumented-prefixes'?: UndocumentedPrefix[];
  'x-conflicts'?: string[];
}

export interface UndocumentedPrefix {
  readonly service: string;
  readonly prefix: string;
}

export interface MergeOptions {
  readonly title?: string;
  readonly version?: string;
  readonly description?: string;
  /** The gateway's own paths (e.g. `/healthz`), included under {@link MergeOptions.ownTag}. */
  readonly ownPaths?: Readonly<Record<string, unknown>>;
  readonly ownTag?: { readonly name: string; readonly description?: string };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const COMPONENTS_PREFIX = '#/components/';
const DEFAULT_OPENAPI_VERSION = '3.1.0';

export function mergeOpenApiDocuments(
  services: readonly ServiceDocument[],
  options: MergeOptions = {},
): OpenApiDocument {
  const unavailable: UnavailableService[] = [];
  const conflicts: string[] = [];

  // 1. Validate, and keep only the paths each service owns.
  const allPrefixes = services.flatMap((s) => s.prefixes.map((prefix) => ({ prefix, service: s.service })));
  const documentedPrefixes = new Set<string>();

  interface Prepared {
    service: string;
    doc: JsonObject;
    paths: JsonObject;
    components: Record<string, JsonObject>;
  }
  const prepared: Prepared[] = [];
  const infos: MergedServiceInfo[] = [];
  for (const source of services) {
    const doc = asOpenApi3(source.document);
    if (!doc) {
      unavailable.push({
        service: source.service,
        reason:
          source.unavailableReason ??
          (source.document === undefined ? 'unavailable' : 'invalid OpenAPI document'),
      });
      infos.push({ name: source.service, available: false, prefixes: [...source.prefixes] });
      continue;
    }
    const info = isObject(doc.info) ? doc.info : {};
    infos.push({
      name: source.service,
      available: true,
      ...(typeof info.title === 'string' ? { title: info.title } : {}),
      ...(typeof info.version === 'string' ? { version: info.version } : {}),
      prefixes: [...source.prefixes],
    });
    const paths: JsonObject = {};
    for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
      if (!isObject(item)) continue;
      const owner = bestPrefix(path, allPrefixes);
      if (owner?.service !== source.service) continue;
      paths[path] = item;
      if (operations({ [path]: item }).next().done === false) documentedPrefixes.add(owner.prefix);
    }
    const components = reachableComponents(paths, isObject(doc.components) ? doc.components : {});
    prepared.push({ service: source.service, doc, paths, components });
  }

  // 2. Decide component names: identical definitions are shared, different ones namespaced.
  const definitions = new Map<string, Map<string, string>>(); // "type/name" -> service -> canonical json
  for (const p of prepared) {
    for (const [type, entries] of Object.entries(p.components)) {
      for (const [name, value] of Object.entries(entries)) {
        const key = `${type}/${name}`;
        const byService = definitions.get(key) ?? new Map<string, string>();
        byService.set(p.service, canonicalJson(value));
        definitions.set(key, byService);
      }
    }
  }
  const renames = new Map<string, Map<string, string>>(); // service -> "type/name" -> new name
  for (const [key, byService] of definitions) {
    if (new Set(byService.values()).size <= 1) continue;
    const name = key.slice(key.indexOf('/') + 1);
    conflicts.push(
      `components/${key} differs between ${[...byService.keys()].join(', ')}; namespaced per service`,
    );
    for (const service of byService.keys()) {
      const map = renames.get(service) ?? new Map<string, string>();
      map.set(key, `${service}.${name}`);
      renames.set(service, map);
    }
  }

  // 3. Decide tag names: a tag used by several services is namespaced.
  const tagUsers = new Map<string, Set<string>>();
  const tagsOf = (p: Prepared): Set<string> => {
    // Only tags that kept operations use: a tag of dropped routes (e.g. `health`) would be empty.
    const names = new Set<string>();
    for (const op of operations(p.paths)) {
      const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : [];
      if (tags.length === 0) names.add(p.service);
      for (const t of tags) names.add(t);
    }
    return names;
  };
  const serviceTags = new Map<string, Set<string>>();
  for (const p of prepared) {
    const names = tagsOf(p);
    serviceTags.set(p.service, names);
    for (const name of names) tagUsers.set(name, (tagUsers.get(name) ?? new Set()).add(p.service));
  }
  if (options.ownTag) {
    tagUsers.set(options.ownTag.name, (tagUsers.get(options.ownTag.name) ?? new Set()).add('\0gateway'));
  }
  const tagName = (service: string, tag: string): string =>
    (tagUsers.get(tag)?.size ?? 0) > 1 ? `${service}.${tag}` : tag;

  // 4. Duplicate operationIds.
  const operationIdUsers = new Map<string, Set<string>>();
  for (const p of prepared) {
    for (const op of operations(p.paths)) {
      if (typeof op.operationId === 'string') {
        operationIdUsers.set(
          op.operationId,
          (operationIdUsers.get(op.operationId) ?? new Set()).add(p.service),
        );
      }
    }
  }

  // 5. Assemble.
  const merged: OpenApiDocument = {
    openapi: pickOpenApiVersion(prepared.map((p) => p.doc.openapi as string)),
    info: {
      title: options.title ?? 'Tessera API',
      version: options.version ?? '0.0.0',
      ...describe(options.description, unavailable),
    },
    servers: [{ url: '/' }],
    paths: {},
    tags: [],
    'x-tagGroups': [],
    'x-services': infos,
    'x-unavailable-services': unavailable,
  };
  const mergedComponents: Record<string, JsonObject> = {};

  if (options.ownPaths && Object.keys(options.ownPaths).length > 0) {
    for (const [path, item] of Object.entries(options.ownPaths)) merged.paths[path] = toJson(item);
    if (options.ownTag) {
      merged.tags.push({
        name: options.ownTag.name,
        ...(options.ownTag.description ? { description: options.ownTag.description } : {}),
      });
      merged['x-tagGroups'].push({ name: options.ownTag.name, tags: [options.ownTag.name] });
    }
  }

  for (const p of prepared) {
    const rename = renames.get(p.service) ?? new Map<string, string>();
    const rewrite = (value: Json): Json => rewriteRefs(value, rename);
    const renameScheme = (name: string): string => rename.get(`securitySchemes/${name}`) ?? name;
    const serviceSecurity = Array.isArray(p.doc.security)
      ? renameSecurity(p.doc.security, renameScheme)
      : undefined;

    for (const [path, rawItem] of Object.entries(p.paths)) {
      const item = rewrite(rawItem) as JsonObject;
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : [];
        op.tags = (tags.length > 0 ? tags : [p.service]).map((t) => tagName(p.service, t));
        if (typeof op.operationId === 'string' && (operationIdUsers.get(op.operationId)?.size ?? 0) > 1) {
          op.operationId = `${p.service}.${op.operationId}`;
        }
        if (Array.isArray(op.security)) op.security = renameSecurity(op.security, renameScheme);
        else if (serviceSecurity) op.security = serviceSecurity;
      }
      if (merged.paths[path] !== undefined) {
        conflicts.push(`paths/${path} is defined by more than one source; kept the first`);
        continue;
      }
      merged.paths[path] = item;
    }

    for (const [type, entries] of Object.entries(p.components)) {
      const target = (mergedComponents[type] ??= {});
      for (const [name, value] of Object.entries(entries)) {
        target[rename.get(`${type}/${name}`) ?? name] = rewrite(value);
      }
    }

    const declared = new Map<string, JsonObject>();
    for (const tag of Array.isArray(p.doc.tags) ? p.doc.tags : []) {
      if (isObject(tag) && typeof tag.name === 'string') declared.set(tag.name, tag);
    }
    const groupTags: string[] = [];
    // Declared order first (services order their tags deliberately), then undeclared ones.
    const used = serviceTags.get(p.service) ?? new Set<string>();
    const ordered = [
      ...[...declared.keys()].filter((n) => used.has(n)),
      ...[...used].filter((n) => !declared.has(n)),
    ];
    for (const name of ordered) {
      const finalName = tagName(p.service, name);
      const base = declared.get(name) ?? (name === p.service ? { description: describeService(p) } : {});
      merged.tags.push({ ...base, name: finalName, 'x-service': p.service });
      groupTags.push(finalName);
    }
    merged['x-tagGroups'].push({ name: p.service, tags: groupTags });
  }

  if (Object.keys(mergedComponents).length > 0) {
    merged.components = Object.fromEntries(
      Object.entries(mergedComponents).map(([type, entries]) => [type, sortKeys(entries)]),
    );
  }
  const undocumented = prepared.flatMap((p) =>
    (services.find((s) => s.service === p.service)?.prefixes ?? [])
      .filter((prefix) => !documentedPrefixes.has(prefix))
      .map((prefix) => ({ service: p.service, prefix })),
  );
  if (undocumented.length > 0) merged['x-undocumented-prefixes'] = undocumented;
  if (conflicts.length > 0) merged['x-conflicts'] = conflicts;
  return merged;
}

function describe(description: string | undefined, unavailable: readonly UnavailableService[]) {
  const lines = description ? [description] : [];
  if (unavailable.length > 0) {
    lines.push(
      `**Currently unavailable** (their operations are missing from this document): ${unavailable
        .map((u) => `${u.service} (${u.reason})`)
        .join(', ')}.`,
    );
  }
  return lines.length > 0 ? { description: lines.join('\n\n') } : {};
}

function describeService(p: { service: string; doc: JsonObject }): string {
  const info = isObject(p.doc.info) ? p.doc.info : {};
  const title = typeof info.title === 'string' ? info.title : p.service;
  return typeof info.version === 'string' ? `${title} (${info.version})` : title;
}

function asOpenApi3(document: unknown): JsonObject | undefined {
  if (!isObject(document as Json)) return undefined;
  const doc = document as JsonObject;
  if (typeof doc.openapi !== 'string' || !/^3\.\d+(\.\d+)?$/.test(doc.openapi)) return undefined;
  if (doc.paths !== undefined && !isObject(doc.paths)) return undefined;
  if (doc.components !== undefined && !isObject(doc.components)) return undefined;
  return doc;
}

/** The highest OpenAPI 3.x version among the sources (3.0 documents are almost always valid 3.1). */
function pickOpenApiVersion(versions: readonly string[]): string {
  const minor = (v: string) => Number(v.split('.')[1] ?? '0');
  const highest = versions.reduce<string | undefined>(
    (a, v) => (a === undefined || minor(v) > minor(a) ? v : a),
    undefined,
  );
  if (highest === undefined) return DEFAULT_OPENAPI_VERSION;
  if (versions.some((v) => minor(v) !== minor(highest))) return DEFAULT_OPENAPI_VERSION;
  return highest.split('.').length === 2 ? `${highest}.0` : highest;
}

function* operations(paths: JsonObject): Generator<JsonObject> {
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (isObject(op)) yield op;
    }
  }
}

/** Components transitively referenced from `paths`; security schemes are always kept. */
function reachableComponents(paths: JsonObject, components: JsonObject): Record<string, JsonObject> {
  const result: Record<string, JsonObject> = {};
  if (isObject(components.securitySchemes)) result.securitySchemes = { ...components.securitySchemes };
  const seen = new Set<string>();
  const queue: Json[] = [paths];
  while (queue.length > 0) {
    const value = queue.pop()!;
    for (const ref of collectRefs(value)) {
      const target = parseComponentRef(ref);
      if (!target) continue;
      const key = `${target.type}/${target.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const group = components[target.type];
      if (!isObject(group)) continue;
      const definition = group[target.name];
      if (definition === undefined) continue;
      (result[target.type] ??= {})[target.name] = definition;
      queue.push(definition);
    }
  }
  return result;
}

function collectRefs(value: Json, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out);
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') out.push(v);
      else if (key === 'mapping' && isObject(v)) {
        for (const m of Object.values(v)) if (typeof m === 'string') out.push(m);
      } else collectRefs(v, out);
    }
  }
  return out;
}

function parseComponentRef(ref: string): { type: string; name: string; rest: string } | undefined {
  if (!ref.startsWith(COMPONENTS_PREFIX)) return undefined;
  const [type, name, ...rest] = ref.slice(COMPONENTS_PREFIX.length).split('/');
  if (!type || name === undefined || name === '') return undefined;
  return { type, name: unescapePointer(name), rest: rest.length > 0 ? `/${rest.join('/')}` : '' };
}

/** Deep copy of `value` with `$ref`s (and discriminator mappings) to renamed components rewritten. */
function rewriteRefs(value: Json, rename: ReadonlyMap<string, string>): Json {
  const rewriteRef = (ref: string): string => {
    const target = parseComponentRef(ref);
    if (!target) return ref;
    const renamed = rename.get(`${target.type}/${target.name}`);
    return renamed === undefined
      ? ref
      : `${COMPONENTS_PREFIX}${target.type}/${escapePointer(renamed)}${target.rest}`;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(v)) {
      if (key === '$ref' && typeof child === 'string') out[key] = rewriteRef(child);
      else if (key === 'mapping' && isObject(child)) {
        out[key] = Object.fromEntries(
          Object.entries(child).map(([k, m]) => [k, typeof m === 'string' ? rewriteRef(m) : walk(m)]),
        );
      } else out[key] = walk(child);
    }
    return out;
  };
  return walk(value);
}

function renameSecurity(requirements: Json[], renameScheme: (name: string) => string): Json[] {
  return requirements.map((req) =>
    isObject(req)
      ? Object.fromEntries(Object.entries(req).map(([name, scopes]) => [renameScheme(name), scopes]))
      : req,
  );
}

function unescapePointer(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function sortKeys(value: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** JSON with object keys sorted, for structural comparison. */
function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
