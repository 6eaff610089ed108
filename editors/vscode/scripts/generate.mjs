#!/usr/bin/env node
// Generate the extension's view of the wire contract from docs/protocol.schema.json, the JSON
// Schema the Python protocol package exports (`make schema`):
//   - src/generated/protocol.ts: method-name constants, enums, one interface per type, the
//     method -> params/result maps that make DaemonClient.request() typed, and RUN_CONTROLS
//     (which control each run status allows; the Runs view and the pickers offer only those);
//   - package.json contributes.configuration[1]: the daemon's settings (x-devfactory-settings).
// `--check` writes nothing and exits 1 when either file is stale, so TypeScript and Python
// cannot drift (test/unit/generated.test.ts runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const EXTENSION_DIR = join(here, '..');
export const SCHEMA_PATH = join(EXTENSION_DIR, '..', '..', 'docs', 'protocol.schema.json');
export const PROTOCOL_TS = join(EXTENSION_DIR, 'src', 'generated', 'protocol.ts');
export const PACKAGE_JSON = join(EXTENSION_DIR, 'package.json');
const SETTINGS_PREFIX = 'devfactory';
const DAEMON_SECTION_TITLE = 'DevFactory Daemon';

const refName = (ref) => ref.replace('#/$defs/', '');
const quote = (s) => JSON.stringify(s);
const isIdentifier = (s) => /^[A-Za-z_$][\w$]*$/.test(s);
const upperSnake = (value) => value.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();

/** Python docstrings keep their indentation in the schema: dedent like inspect.cleandoc. */
export function cleandoc(text) {
  const [first, ...rest] = text.trim().split('\n');
  const indents = rest.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return [first.trim(), ...rest.map((l) => l.slice(cut).trimEnd())].join('\n');
}

function docComment(text, indent = '') {
  if (!text) return '';
  const lines = cleandoc(text).split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0].replace(/\*\//g, '*\\/')} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l.replace(/\*\//g, '*\\/')}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

/** Names of the $defs reachable from `roots` (following $ref). */
function reachable(schema, roots) {
  const seen = new Set();
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string') {
      const name = refName(node.$ref);
      if (!seen.has(name)) {
        seen.add(name);
        visit(schema.$defs[name]);
      }
    }
    Object.values(node).forEach(visit);
  };
  roots.forEach(visit);
  return seen;
}

function tsType(node) {
  if (!node || Object.keys(node).length === 0) return 'unknown';
  if (node.$ref) return refName(node.$ref);
  if (node.anyOf) return node.anyOf.map(tsType).join(' | ');
  if (node.enum) return node.enum.map(quote).join(' | ');
  switch (node.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = tsType(node.items);
      return /[|&]/.test(item) ? `(${item})[]` : `${item}[]`;
    }
    case 'object':
      if (node.properties) throw new Error('inline object types are not supported');
      return typeof node.additionalProperties === 'object'
        ? `Record<string, ${tsType(node.additionalProperties)}>`
        : 'Record<string, unknown>';
    default:
      throw new Error(`unsupported schema node ${JSON.stringify(node)}`);
  }
}

function renderEnum(name, def) {
  const members = def.enum.map((v) => `  ${upperSnake(v)}: ${quote(v)},`).join('\n');
  return (
    docComment(def.description) +
    `export const ${name} = {\n${members}\n} as const;\n` +
    `export type ${name} = (typeof ${name})[keyof typeof ${name}];\n`
  );
}

/**
 * Params types get optional fields where the schema has a default; records the daemon sends are
 * encoded with every field (msgspec writes defaults), so there every field is present.
 */
function renderInterface(name, def, optionalDefaults) {
  const required = new Set(def.required ?? []);
  const props = Object.entries(def.properties ?? {}).map(([key, prop]) => {
    const optional = optionalDefaults && !required.has(key) ? '?' : '';
    const id = isIdentifier(key) ? key : quote(key);
    return `${docComment(prop.description, '  ')}  ${id}${optional}: ${tsType(prop)};`;
  });
  if (props.length === 0) return docComment(def.description) + `export type ${name} = Record<string, never>;\n`;
  return docComment(def.description) + `export interface ${name} {\n${props.join('\n')}\n}\n`;
}

function renderConstants(name, values) {
  const body = Object.entries(values)
    .map(([k, v]) => `  ${k}: ${quote(v)},`)
    .join('\n');
  return `export const ${name} = {\n${body}\n} as const;\n`;
}

/** The run-control table (which control each run status allows) and the terminal statuses. */
function renderRunControls(schema) {
  const rows = Object.entries(schema['x-devfactory-run-controls'])
    .map(([status, controls]) => `  ${status}: [${controls.map(quote).join(', ')}],`)
    .join('\n');
  const terminal = schema['x-devfactory-terminal-run-statuses'].map(quote).join(', ');
  return (
    docComment('Which control each run status allows: the daemon refuses the others.') +
    `export const RUN_CONTROLS: Readonly<Record<RunStatus, readonly RunControl[]>> = {\n${rows}\n};\n\n` +
    docComment('Statuses a run never leaves by itself.') +
    `export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = [${terminal}];\n`
  );
}

export function renderProtocol(schema) {
  const requests = schema['x-devfactory-requests'];
  const notifications = schema['x-devfactory-notifications'];
  const payloads = schema['x-devfactory-event-payloads'];
  const constants = schema['x-devfactory-constants'];
  const inputs = reachable(
    schema,
    Object.values(requests).map((r) => r.params),
  );
  const parts = [
    '// Generated by scripts/generate.mjs from docs/protocol.schema.json. Do not edit:\n' +
      '// change the Python protocol package, run `make schema`, then `npm run generate`.\n' +
      '/* eslint-disable */\n',
    `export const PROTOCOL_VERSION = ${quote(schema['x-devfactory-protocol-version'])};\n`,
    docComment('Client -> daemon requests.') + renderConstants('Requests', constants.Requests),
    docComment('Daemon -> client notifications.') + renderConstants('Notifications', constants.Notifications),
    docComment('workspace/executeCommand commands the daemon registers (code actions use them).') +
      renderConstants('Commands', constants.Commands),
    docComment("Keys an editor may set to true in initialize's capabilities.experimental.") +
      renderConstants('Capabilities', constants.Capabilities),
    docComment('JSON-RPC error codes of the daemon that clients word specially.') +
      renderConstants('ErrorCodes', constants.ErrorCodes),
  ];
  for (const name of Object.keys(schema.$defs).sort()) {
    const def = schema.$defs[name];
    parts.push(def.enum ? renderEnum(name, def) : renderInterface(name, def, inputs.has(name)));
  }
  const requestMap = Object.entries(requests)
    .map(([m, r]) => `${docComment(r.description, '  ')}  ${quote(m)}: { params: ${tsType(r.params)}; result: ${tsType(r.result)} };`)
    .join('\n');
  parts.push(`export interface RequestTypes {\n${requestMap}\n}\n`);
  const notificationMap = Object.entries(notifications)
    .map(([m, n]) => `  ${quote(m)}: ${tsType(n.params)};`)
    .join('\n');
  parts.push(`export interface NotificationTypes {\n${notificationMap}\n}\n`);
  const payloadMap = Object.entries(payloads)
    .map(([t, p]) => `  ${t}: ${tsType(p)};`)
    .join('\n');
  parts.push(`/** The typed payload of each event type. */\nexport interface EventPayloads {\n${payloadMap}\n}\n`);
  parts.push(renderRunControls(schema));
  parts.push(
    'export type RequestMethod = keyof RequestTypes;\n' +
      "export type RequestParams<M extends RequestMethod> = RequestTypes[M]['params'];\n" +
      "export type RequestResult<M extends RequestMethod> = RequestTypes[M]['result'];\n" +
      'export type NotificationMethod = keyof NotificationTypes;\n',
  );
  const keys = settingsEntries(schema).map(([key]) => key.slice(SETTINGS_PREFIX.length + 1));
  parts.push(
    docComment('Keys (under `devfactory.`) of the daemon settings contributed to VS Code.') +
      `export const DAEMON_SETTING_KEYS = [\n${keys.map((k) => `  ${quote(k)},`).join('\n')}\n] as const;\n`,
  );
  const project = keys.filter((key) => isProjectSetting(schema, key));
  parts.push(
    docComment(
      "The daemon settings a workspace's own settings may set (x-devfactory-project-settings); " +
        'the others only the user sets (their VS Code scope is `machine`).',
    ) + `export const PROJECT_SETTING_KEYS = [\n${project.map((k) => `  ${quote(k)},`).join('\n')}\n] as const;\n`,
  );
  return parts.join('\n');
}

/** Inline every $ref: VS Code's settings editor does not resolve `#/$defs/...`. */
function inline(schema, node) {
  if (Array.isArray(node)) return node.map((n) => inline(schema, n));
  if (!node || typeof node !== 'object') return node;
  if (node.$ref) {
    const { $ref, ...rest } = node;
    const { title, ...target } = schema.$defs[refName($ref)];
    void title;
    return inline(schema, { ...target, ...rest });
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'title' || k === 'required') continue;
    out[k] = k === 'description' && typeof v === 'string' ? cleandoc(v) : inline(schema, v);
  }
  // `anyOf: [X, null]` reads better in the settings UI as `type: [X, "null"]`.
  if (out.anyOf && out.anyOf.every((n) => Object.keys(n).length === 1 && typeof n.type === 'string')) {
    out.type = out.anyOf.map((n) => n.type);
    delete out.anyOf;
  }
  if (out.enum && !out.type) out.type = 'string';
  return out;
}

/**
 * Whether a workspace may set the daemon setting `key` (`index.exclude`) on its own: the rest
 * choose what runs as the user and where keys go, so a repository's `.vscode/settings.json`
 * must not set them (the daemon holds them back in its own `devfactory.toml` alike).
 */
function isProjectSetting(schema, key) {
  const [section, name] = key.split('.');
  const keys = schema['x-devfactory-project-settings'][section];
  return keys === null || (keys !== undefined && name !== undefined && keys.includes(name));
}

const humanize = (key) => {
  const words = key.replace(/([A-Z])/g, ' $1').toLowerCase().trim();
  return words.charAt(0).toUpperCase() + words.slice(1) + '.';
};

/** [dotted setting key, VS Code configuration property] for every daemon setting. */
function settingsEntries(schema) {
  const root = schema.$defs[refName(schema['x-devfactory-settings'].$ref)];
  const entries = [];
  const walk = (def, prefix) => {
    for (const [key, prop] of Object.entries(def.properties)) {
      const target = prop.$ref ? schema.$defs[refName(prop.$ref)] : undefined;
      if (target?.type === 'object' && target.properties) {
        walk(target, `${prefix}.${key}`);
        continue;
      }
      const resolved = inline(schema, prop);
      delete resolved.description;
      const fullKey = `${prefix}.${key}`;
      const description = cleandoc(prop.description ?? target?.description ?? humanize(key));
      const daemonKey = fullKey.slice(SETTINGS_PREFIX.length + 1);
      if (!('default' in resolved) && resolved.type === 'object') resolved.default = {};
      resolved.markdownDescription = `${description} (daemon setting \`${daemonKey}\`)`;
      if (!isProjectSetting(schema, daemonKey)) resolved.scope = 'machine';
      entries.push([fullKey, resolved]);
    }
  };
  walk(root, SETTINGS_PREFIX);
  return entries.sort(([a], [b]) => a.localeCompare(b));
}

export function renderConfiguration(schema) {
  return {
    title: DAEMON_SECTION_TITLE,
    properties: Object.fromEntries(settingsEntries(schema)),
  };
}

/** package.json text with the daemon section replaced (the hand-written client section stays). */
export function renderPackageJson(schema, packageText) {
  const pkg = JSON.parse(packageText);
  const sections = pkg.contributes.configuration.filter((s) => s.title !== DAEMON_SECTION_TITLE);
  const daemon = renderConfiguration(schema);
  for (const section of sections) {
    for (const key of Object.keys(section.properties ?? {})) {
      if (key in daemon.properties) throw new Error(`client setting ${key} collides with a daemon setting`);
    }
  }
  pkg.contributes.configuration = [...sections, daemon];
  return JSON.stringify(pkg, null, 2) + '\n';
}

export function generate() {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
  return {
    [PROTOCOL_TS]: renderProtocol(schema),
    [PACKAGE_JSON]: renderPackageJson(schema, readFileSync(PACKAGE_JSON, 'utf8')),
  };
}

/** Paths whose checked-in content differs from what the schema generates. */
export function staleFiles() {
  return Object.entries(generate())
    .filter(([path, text]) => {
      try {
        return readFileSync(path, 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`stale generated files: ${stale.join(', ')}\nrun: npm run generate (in editors/vscode)`);
      process.exit(1);
    }
  } else {
    for (const [path, text] of Object.entries(generate())) writeFileSync(path, text);
  }
}
