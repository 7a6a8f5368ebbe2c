/**
 * Layers point one way (#17): fails when a module imports one its layer must not depend on, type-only
 * imports included. lib/ holds the building blocks and the endpoints in functions/ build on them, never
 * the reverse; neither reaches into the local tooling (dev/, bench/) or the tests; and in lib/ only the
 * route and admission layer knows Hono, so nothing below it can take a Context. The import graph is
 * dpdm's, the parser `npm run cycles` uses, so both checks read imports alike.
 * Usage: `npm run layers` (part of `npm test`).
 */
import { parseDependencyTree } from 'dpdm';

/** Folder → the folders its modules must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  'lib/': ['functions/', 'dev/', 'bench/', 'test/'],
  'functions/': ['dev/', 'bench/', 'test/'],
};

/**
 * The lib modules of the route and admission layer: the app, its middleware and error responses, the
 * caller's key, admission with its cache lookup (the proxy's too), and the request's services as built
 * from a Context. Every other lib module works on plain data (lib/services.ts).
 */
const HONO_LAYER = new Set([
  'lib/app.ts',
  'lib/cache-first.ts',
  'lib/caller.ts',
  'lib/cors.ts',
  'lib/error-mapping.ts',
  'lib/error-response.ts',
  'lib/errors.ts', // the status-code type only
  'lib/guards.ts',
  'lib/proxy/admission.ts',
  'lib/request-limit.ts',
  'lib/request-services.ts',
  'lib/validate.ts',
]);
const isHono = (request: string) => request === 'hono' || request.startsWith('hono/');

// `transform: false` keeps type-only imports in the graph: a type that points the wrong way still
// couples the layers.
const tree = await parseDependencyTree(
  Object.keys(FORBIDDEN).map((dir) => `${dir}**/*.ts`),
  { transform: false },
);

const problems: string[] = [];
let checked = 0;
for (const [file, dependencies] of Object.entries(tree)) {
  const forbidden = Object.entries(FORBIDDEN).find(([dir]) => file.startsWith(dir))?.[1];
  if (!forbidden || !dependencies) continue;
  checked++;
  for (const { request, id } of dependencies) {
    // An import the parser cannot follow would escape the rule, so it fails too.
    if (id === null && request.startsWith('.')) problems.push(`${file}: cannot resolve '${request}'`);
    else if (id && forbidden.some((dir) => id.startsWith(dir))) problems.push(`${file} imports ${id}`);
    else if (file.startsWith('lib/') && isHono(request) && !HONO_LAYER.has(file))
      problems.push(`${file} imports ${request}: only the route and admission layer may`);
  }
}

if (problems.length) {
  console.error(`Imports against the layers (see scripts/check-layers.ts):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`layers: ${checked} modules checked, none imports against the layers`);
