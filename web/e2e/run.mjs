// run.mjs — the web interface end to end, in Debian's Chromium driven by
// playwright-core, against a real `errand serve` (started by
// tests/e2e/t_web.sh with the scripted fake LLM):  log in, a streamed answer
// and the agent the supervisor chose, model markup shown as text, approve a
// write, a tool's image shown in the chat, cancel a task, another client's task appearing in the tracker, the
// tracker's state changes pushed over the WebSocket, the agent monitor, the
// conversations, the memories (list, search, forget), the memory graph, the WebSocket reconnecting after the
// server restarts, an accessibility check (axe-core), and the figures the
// README quotes (first paint, bundle, the frames drawn while two answers
// stream: recorded, not asserted; bench/web_stream.sh measures them in
// rounds).
//
// Environment: ERRAND_URL (http://127.0.0.1:PORT), API_TOKEN, RESTART_CMD
// (restarts the server on the same port), SCREENS (where screenshots go),
// RESULTS (a JSON file of measured figures).  Exit status 1 on any failure.
import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const URL_ = process.env.ERRAND_URL;
const TOKEN = process.env.API_TOKEN;
const SCREENS = process.env.SCREENS ?? join(here, '..', 'screens');
const RESULTS = process.env.RESULTS;
if (!URL_ || !TOKEN) {
  console.error('run.mjs: ERRAND_URL and API_TOKEN must be set (tests/e2e/t_web.sh sets them)');
  process.exit(2);
}
mkdirSync(SCREENS, { recursive: true });

let fails = 0;
const ok = (what) => console.log(`ok: ${what}`);
const fail = (what) => {
  console.error(`FAIL: ${what}`);
  fails++;
};
const check = (what, cond, detail = '') => (cond ? ok(what) : fail(`${what}${detail ? `: ${detail}` : ''}`));
async function step(what, fn) {
  try {
    await fn();
  } catch (e) {
    fail(`${what}: ${e?.message?.split('\n')[0] ?? e}`);
  }
}

const figures = {};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage', '--no-first-run'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const page = await context.newPage();
const problems = [];
let restarting = false;
page.on('console', (m) => {
  // The wrong token's 401 is expected (and logged by Chromium as an error),
  // and so are the refused connections while the server restarts.
  if (/status of 401/.test(m.text())) return;
  if (restarting && /WebSocket connection to .* failed|Failed to load resource: net::/.test(m.text())) return;
  if (m.type() === 'error' || /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// The life of the page's socket, printed when a check fails: its worker
// starting and ending, and the socket's close.
const socketLog = [];
const t00 = Date.now();
page.on('worker', (w) => {
  socketLog.push(`${Date.now() - t00} ms: worker ${w.url().replace(/.*\//, '')}`);
  w.on('close', () => socketLog.push(`${Date.now() - t00} ms: worker ended`));
});
page.on('websocket', (ws) => {
  socketLog.push(`${Date.now() - t00} ms: socket opened`);
  ws.on('close', () => socketLog.push(`${Date.now() - t00} ms: socket closed`));
  ws.on('socketerror', (e) => socketLog.push(`${Date.now() - t00} ms: socket error ${e}`));
});
page.on('console', (m) => socketLog.push(`${Date.now() - t00} ms: console ${m.type()}: ${m.text().slice(0, 200)}`));
// What the page's WebSocket received, with arrival times: the tracker's push
// check shows a state change came over the socket, not from a poll.
const wsFrames = [];
page.on('websocket', (ws) => ws.on('framereceived', (f) => {
  if (typeof f.payload === 'string') wsFrames.push({ at: Date.now(), text: f.payload });
}));
// The list requests the tracker makes (its poll, and its reloads on a push).
const listRequests = [];
page.on('request', (r) => {
  if (/\/api\/v1\/tasks\?/.test(r.url())) listRequests.push(Date.now());
});
const restToken = async () => (await (await fetch(`${URL_}/api/v1/auth/token`, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ api_token: TOKEN }),
})).json()).access_token;

const turn = (text) => page.locator('article.turn').filter({ hasText: text }).last();
async function ask(text) {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  const t = turn(text.replace(/^@\w+\s+/, ''));
  await t.waitFor({ timeout: 15000 });
  return t;
}
const statusOf = (t) => t.getByTestId('status').textContent();
async function waitStatus(t, want, ms = 30000) {
  await t.getByTestId('status').filter({ hasText: new RegExp(`^${want}$`) }).waitFor({ timeout: ms });
}

try {
  // ---- the API types the app relies on are the server's ----
  await step('openapi', async () => {
    const doc = await (await fetch(`${URL_}/api/v1/openapi.json`)).json();
    const want = JSON.parse(readFileSync(join(here, 'api_fields.json'), 'utf8'));
    for (const [schema, fields] of Object.entries(want)) {
      const s = doc.components?.schemas?.[schema];
      const req = s?.required ?? s?.allOf?.flatMap((x) => x.required ?? []) ?? [];
      const missing = fields.filter((f) => !req.includes(f));
      check(`openapi: ${schema} has ${fields.join(', ')}`, s && missing.length === 0, `missing ${missing}`);
    }
  });

  // ---- first view: served with its headers, painted quickly ----
  await step('first view', async () => {
    // The second load is measured: the first includes starting the browser's
    // renderer, which no user waits for twice.
    await page.goto(URL_, { waitUntil: 'load' });
    const resp = await page.goto(URL_, { waitUntil: 'load' });
    const h = resp.headers();
    check('index: Content-Security-Policy', /script-src 'self'/.test(h['content-security-policy'] ?? ''));
    check('index: no-cache', h['cache-control'] === 'no-cache');
    await page.getByLabel('API token').waitFor();
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const ready = performance.getEntriesByName('errand:login-ready')[0]?.startTime;
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      const res = performance.getEntriesByType('resource');
      return { fcp: fcp?.startTime, ready, load: nav?.loadEventEnd, transfer: res.reduce((n, r) => n + r.transferSize, nav?.transferSize ?? 0) };
    });
    figures.first_contentful_paint_ms = Math.round(t.fcp ?? -1);
    figures.load_event_ms = Math.round(t.load ?? -1);
    figures.login_form_ready_ms = Math.round(t.ready ?? -1);
    check('the login view marked itself ready', (t.ready ?? 0) > 0);
    figures.first_view_transfer_bytes = t.transfer;
    check('first contentful paint measured', (t.fcp ?? 0) > 0, JSON.stringify(t));
    const asset = await page.evaluate(() => document.querySelector('script[src]')?.getAttribute('src'));
    const a = await fetch(`${URL_}${asset}`, { headers: { 'Accept-Encoding': 'gzip' } });
    check('hashed asset: immutable', /immutable/.test(a.headers.get('cache-control') ?? ''));
    check('hashed asset: JavaScript type', /javascript/.test(a.headers.get('content-type') ?? ''));
    await page.screenshot({ path: join(SCREENS, 'login.png') });
  });

  // ---- log in: a wrong token is refused, the right one kept in memory only ----
  await step('login', async () => {
    await page.getByLabel('API token').fill('errand_not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    ok('a wrong token is refused with a message');
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('live').filter({ hasText: /^live$/ }).waitFor({ timeout: 15000 });
    ok('logged in; the WebSocket is live');
    const stored = await page.evaluate(() => ({
      local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
    }));
    check('no token in localStorage, sessionStorage or cookies',
      stored.local === 0 && stored.session === 0 && stored.cookie === '', JSON.stringify(stored));
  });

  // ---- chat: streamed answer, the agent chosen by the supervisor ----
  await step('streamed answer', async () => {
    const t = await ask('stream me please');
    const seen = new Set();
    for (let i = 0; i < 200; i++) {
      const txt = (await t.locator('.msg.assistant .prose').allTextContents()).join('');
      seen.add(txt.length);
      if ((await statusOf(t)) === 'done') break;
      await page.waitForTimeout(25);
    }
    await waitStatus(t, 'done');
    const words = Array.from({ length: 40 }, (_, i) => `w${i + 1}`).join(' ');
    const txt = (await t.locator('.msg.assistant .prose').allTextContents()).join('');
    check('the whole answer arrived', txt.includes(words), txt.slice(0, 200));
    check('the answer grew while streaming', seen.size >= 3, `lengths seen: ${[...seen]}`);
    const agents = await t.getByTestId('agents').textContent();
    check('the chosen agent is shown', /code/.test(agents ?? ''), agents);
    await page.screenshot({ path: join(SCREENS, 'chat.png') });
  });

  // ---- model output is text, never markup ----
  await step('xss', async () => {
    const t = await ask('@code show markup');
    await waitStatus(t, 'done');
    const txt = await t.locator('.msg.assistant').textContent();
    const pwned = await page.evaluate(() => window.__pwned ?? null);
    const imgs = await t.locator('img').count();
    check('markup from the model is shown as text', txt.includes('<img src=x onerror=') && txt.includes('<b>bold</b>'), txt);
    check('no element or script from the model', imgs === 0 && pwned === null);
  });

  // ---- approval: the write waits for the user, then runs ----
  await step('approval', async () => {
    const t = await ask('@code please write');
    const dialog = t.getByRole('alertdialog');
    await dialog.waitFor({ timeout: 20000 });
    check('the approval names the tool', /write_file/.test(await dialog.textContent()));
    await page.screenshot({ path: join(SCREENS, 'approval.png') });
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await waitStatus(t, 'done');
    const stepSummary = t.locator('details.step summary').filter({ hasText: 'write_file' }).first();
    await stepSummary.click();
    const body = await t.locator('details.step[open]').first().textContent();
    check('the step shows its arguments', body.includes('out.txt'), body.slice(0, 200));
    check('the answer follows the write', (await t.textContent()).includes('Wrote it'));
  });

  // ---- an image a tool named, shown in the chat through the API ----
  await step('images', async () => {
    const t = await ask('@code show the chart');
    await waitStatus(t, 'done');
    const img = t.locator('img.tool-image[alt="image chart.png"]');
    await img.waitFor({ timeout: 10000 });
    const size = await img.evaluate((el) => el.complete && [el.naturalWidth, el.naturalHeight]);
    check('the chart in the workspace is shown under the step, decoded', size && size[0] === 2 && size[1] === 2, JSON.stringify(size));
    check('…from a blob: URL (the API route needs the token)', (await img.getAttribute('src')).startsWith('blob:'));
    await page.screenshot({ path: join(SCREENS, 'images.png') });
  });

  // ---- cancel a running task ----
  await step('cancel', async () => {
    const t = await ask('@code slow job');
    await t.locator('.msg.assistant .prose').waitFor({ timeout: 20000 });
    await t.getByRole('button', { name: 'Cancel' }).click();
    await waitStatus(t, 'cancelled', 20000);
    ok('a running task was cancelled from the chat');
  });

  // ---- the tracker: another client's task appears by itself ----
  await step('tracker', async () => {
    await page.keyboard.press('Alt+2');
    await page.locator('section[aria-label="tasks"] table').waitFor();
    const pair = await (await fetch(`${URL_}/api/v1/auth/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ api_token: TOKEN }),
    })).json();
    const acc = await (await fetch(`${URL_}/api/v1/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${pair.access_token}` },
      body: JSON.stringify({ message: 'other client task', agent: 'data' }),
    })).json();
    const row = page.locator(`tr[data-task="${acc.task_id}"]`);
    // New tasks of other clients are found by the slow poll (15 s while live).
    await row.waitFor({ timeout: 20000 });
    ok("another client's task appeared in the tracker");
    await row.getByRole('link').click();
    await page.locator('section[aria-label="task detail"] .timeline li').first().waitFor({ timeout: 15000 });
    ok('the task detail shows its event timeline');
    await page.getByLabel('Status').selectOption('cancelled');
    const rows = await page.locator('section[aria-label="tasks"] tbody tr').allTextContents();
    check('the status filter keeps only cancelled tasks', rows.length >= 1 && rows.every((r) => r.startsWith('cancelled')), rows.join(' | '));
    await page.getByLabel('Status').selectOption('');
    await page.screenshot({ path: join(SCREENS, 'tasks.png') });
  });

  // ---- the tracker: state changes are pushed over the WebSocket ----
  await step('tracker push', async () => {
    const access = await restToken();
    const auth = { 'Content-Type': 'application/json', Authorization: `Bearer ${access}` };
    const acc = await (await fetch(`${URL_}/api/v1/chat`, {
      method: 'POST', headers: auth, body: JSON.stringify({ message: 'slow tracker job', agent: 'code' }),
    })).json();
    // A fresh mount fetches the list at once; from then on, while the socket
    // is live, the list is polled only every 15 s.
    await page.keyboard.press('Alt+1');
    await page.keyboard.press('Alt+2');
    const row = page.locator(`tr[data-task="${acc.task_id}"]`);
    await row.waitFor({ timeout: 10000 });
    const subscribed = () => wsFrames.some((f) => f.text.includes('"subscribed"') && f.text.includes(acc.task_id));
    for (let i = 0; i < 50 && !subscribed(); i++) await page.waitForTimeout(100);
    check('the tracker follows a task in flight over the WebSocket', subscribed());
    await page.waitForTimeout(500);
    const before = listRequests.length;
    const t0 = Date.now();
    const r = await fetch(`${URL_}/api/v1/tasks/${acc.task_id}/cancel`, { method: 'POST', headers: auth, body: '{}' });
    check('cancelled through the REST API', r.ok, `status ${r.status}`);
    await row.locator('.status').filter({ hasText: /^cancelled$/ }).waitFor({ timeout: 3000 });
    const ms = Date.now() - t0;
    figures.tracker_push_ms = ms;
    const pushed = wsFrames.some((f) => f.at >= t0 && f.text.includes('"type":"event"') && f.text.includes(acc.task_id));
    check(`the state change appeared in ${ms} ms, pushed over the WebSocket`, pushed && ms < 3000);
    const reloads = listRequests.slice(before);
    const firstEvent = wsFrames.find((f) => f.at >= t0 && f.text.includes('"type":"event"') && f.text.includes(acc.task_id));
    check('the list was reloaded because of the pushed event, not a poll',
      reloads.length >= 1 && firstEvent && reloads[0] >= firstEvent.at, JSON.stringify({ reloads: reloads.map((x) => x - t0), event: firstEvent && firstEvent.at - t0 }));
  });

  // ---- the agent monitor ----
  await step('agents', async () => {
    await page.keyboard.press('Alt+3');
    await page.locator('[data-agent="code"]').waitFor({ timeout: 10000 });
    const n = await page.locator('article.card').count();
    check('the agent monitor lists the five agents', n >= 5, `${n} cards`);
    await page.screenshot({ path: join(SCREENS, 'agents.png') });
  });

  // ---- conversations (the memory view) ----
  await step('memory', async () => {
    await page.keyboard.press('Alt+4');
    await page.getByLabel('Search conversations').fill('please write');
    await page.locator('section[aria-label="conversations"] li').first().waitFor({ timeout: 10000 });
    const items = await page.locator('section[aria-label="conversations"] li').allTextContents();
    check('searching finds the conversation by what was said', items.length >= 1 && items.length < 5, items.join(' | '));
    await page.locator('section[aria-label="conversations"] li button').first().click();
    await page.locator('section[aria-label="conversation"] .msg').first().waitFor();
    await page.screenshot({ path: join(SCREENS, 'memory.png') });
  });

  // ---- memories: listed, searched, shown as text, forgotten ----
  await step('memories', async () => {
    const auth = { 'Content-Type': 'application/json', Authorization: `Bearer ${await restToken()}` };
    const save = async (text) => (await (await fetch(`${URL_}/api/v1/memory`, {
      method: 'POST', headers: auth, body: JSON.stringify({ text }),
    })).json()).id;
    const evil = await save('zebra <img src=x onerror=window.__pwned=3> stripes <script>window.__pwned=4</script>');
    await save('the user takes tea without sugar');
    // A fresh mount lists them.
    await page.keyboard.press('Alt+1');
    await page.keyboard.press('Alt+4');
    const list = page.locator('section[aria-label="memories"]');
    await list.locator(`li[data-memory="${evil}"]`).waitFor({ timeout: 10000 });
    check('the memory text is shown as text, not markup',
      (await list.locator(`li[data-memory="${evil}"]`).textContent()).includes('<img src=x onerror=window.__pwned=3>') &&
      await list.locator('img, script').count() === 0 && await page.evaluate(() => window.__pwned === undefined));
    await page.getByLabel('Search memories').fill('zebra');
    await list.locator('li').filter({ hasText: 'tea without sugar' }).waitFor({ state: 'detached', timeout: 10000 });
    const hits = await list.locator('li').allTextContents();
    check('searching finds the memory, and never another user\'s', hits.length >= 1 && hits[0].includes('stripes') &&
      !hits.some((h) => h.includes('bob house')), hits.join(' | '));
    await list.locator(`li[data-memory="${evil}"] button.link`).click();
    await list.locator('.memory-detail').waitFor();
    check('a memory opens with its facts', (await list.locator('.memory-detail').textContent()).includes('kind'));
    await page.screenshot({ path: join(SCREENS, 'memories.png') });
    await list.locator(`li[data-memory="${evil}"]`).getByRole('button', { name: /^Forget/ }).click();
    await list.locator(`li[data-memory="${evil}"]`).waitFor({ state: 'detached', timeout: 10000 });
    const gone = await fetch(`${URL_}/api/v1/memory/${evil}`, { headers: auth });
    check('a forgotten memory is gone from the server', gone.status === 404, `status ${gone.status}`);
  });

  // ---- the memory graph: found by name, drawn and listed, followed by
  // keyboard; never another user's; no serious axe violation with an entity open ----
  await step('graph', async () => {
    const RUN_ID = process.env.RUN_ID ?? '';
    await page.keyboard.press('Alt+1');
    await page.keyboard.press('Alt+4');
    const g = page.locator('section[aria-label="memory graph"]');
    await page.getByLabel('Search entities').fill(`lovelace ${RUN_ID}`);
    const ada = g.locator('li[data-entity]').filter({ hasText: `Ada Lovelace ${RUN_ID}` });
    await ada.waitFor({ timeout: 10000 });
    // The list shown before the search settles has every entity: wait for the answer.
    for (let i = 0; i < 50 && (await g.locator('li[data-entity]').count()) !== 1; i++) await page.waitForTimeout(100);
    check('searching the graph finds the entity by part of its name', (await g.locator('li[data-entity]').count()) === 1);
    // By keyboard: focus the entity's button, Enter opens it.
    await ada.getByRole('button').focus();
    await page.keyboard.press('Enter');
    const detail = g.locator('.entity-detail');
    await detail.getByRole('heading', { name: `Ada Lovelace ${RUN_ID}` }).waitFor({ timeout: 10000 });
    const rels = await detail.getByRole('list', { name: 'relations' }).textContent();
    check('the entity shows its relation', rels.includes('worked with') && rels.includes(`Charles Babbage ${RUN_ID}`), rels);
    check("…and never another user's", !rels.includes('owes money') && !(await g.textContent()).includes('bob bank'), rels);
    const picture = detail.getByRole('img');
    check('the picture draws the entity and its neighbour', (await picture.locator('[data-node]').count()) === 2);
    check('the focus moved to the opened entity', await page.evaluate(() => document.activeElement?.tagName === 'H3'));
    // Follow the relation to Babbage with the keyboard, then look two steps out.
    await detail.getByRole('button', { name: `Charles Babbage ${RUN_ID}` }).focus();
    await page.keyboard.press('Enter');
    await detail.getByRole('heading', { name: `Charles Babbage ${RUN_ID}` }).waitFor({ timeout: 10000 });
    await detail.getByLabel('Depth').selectOption('2');
    await detail.locator('li[data-relation]').nth(1).waitFor({ timeout: 10000 });
    const two = await detail.getByRole('list', { name: 'relations' }).textContent();
    check('following a relation opens the other entity and its relations', two.includes('designed') && two.includes('worked with'), two);
    await page.screenshot({ path: join(SCREENS, 'graph.png') });
    const require = createRequire(import.meta.url);
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const v = await page.evaluate(async (src) => {
      if (!window.axe) (0, eval)(src);
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${x.id} (${x.nodes.length})`);
    }, axeSource);
    check('axe: no serious violations in the graph with an entity open', v.length === 0, v.join(', '));
  });

  // ---- accessibility: axe-core over each view ----
  await step('axe', async () => {
    const require = createRequire(import.meta.url);
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    for (const [key, name] of [['Alt+1', 'chat'], ['Alt+2', 'tasks'], ['Alt+3', 'agents'], ['Alt+4', 'memory']]) {
      await page.keyboard.press(key);
      await page.waitForTimeout(300);
      // evaluate runs over the DevTools protocol, outside the page's CSP.
      const v = await page.evaluate(async (src) => {
        if (!window.axe) (0, eval)(src);
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
          .map((x) => `${x.id} (${x.nodes.length})`);
      }, axeSource);
      check(`axe: no serious violations in ${name}`, v.length === 0, v.join(', '));
    }
  });

  // ---- the WebSocket comes back after the server restarts ----
  await step('reconnect', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByLabel('Message').waitFor();
    await page.evaluate(() => {
      window.__states = [];
      const el = document.querySelector('[data-testid="live"]');
      new MutationObserver(() => window.__states.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    });
    restarting = true;
    execSync(process.env.RESTART_CMD, { stdio: 'inherit' });
    await page.getByTestId('live').filter({ hasText: /^live$/ }).waitFor({ timeout: 30000 });
    restarting = false;
    const states = await page.evaluate(() => window.__states);
    check('the page saw the connection drop and come back', states.includes('reconnecting') && states.at(-1) === 'live', states.join(' → '));
    const t = await ask('@code after restart');
    await waitStatus(t, 'done');
    check('a task runs over the new connection', (await t.textContent()).includes('back again'));
  });

  // ---- two long answers streamed at once, about 1,000 token events a
  // second from the fake: both arrive whole through the socket's worker.
  // (How smoothly the page draws meanwhile is measured by
  // bench/web_stream.sh, not here.) ----
  await step('fast streams', async () => {
    const box = page.getByLabel('Message');
    // Frames the page draws while they stream, recorded (not asserted: the
    // machine is shared) with the Performance API's clock into the figures.
    await page.evaluate(() => {
      window.__frames = [];
      const tick = (ts) => {
        window.__frames.push(ts);
        window.__raf = requestAnimationFrame(tick);
      };
      window.__raf = requestAnimationFrame(tick);
    });
    const t0 = Date.now();
    for (const n of ['fast stream one', 'fast stream two']) {
      await box.fill(`@code ${n}`);
      await box.press('Enter');
      await turn(n).waitFor();
    }
    check('the WebSocket lives in a worker', page.workers().some((w) => /socket\.worker/.test(w.url())),
      `workers: [${page.workers().map((w) => w.url()).join(' ')}], live: ${await page.getByTestId('live').textContent()}`);
    let n = 0;
    for (const name of ['fast stream one', 'fast stream two']) {
      const t = turn(name);
      await waitStatus(t, 'done', 90000);
      const words = (await t.locator('.msg.assistant .prose').allTextContents()).join('').split(' ').filter(Boolean);
      check(`${name}: the 3,000 tokens arrived whole and in order`, words.length === 3000 && words[0] === 'f1' &&
        words[2999] === 'f3000' && words.every((w, i) => w === `f${i + 1}`), `${words.length} words`);
      n += words.length;
    }
    figures.stream_token_events = n;
    const seconds = (Date.now() - t0) / 1000;
    const frames = await page.evaluate(() => {
      cancelAnimationFrame(window.__raf);
      return window.__frames;
    });
    const span = frames.length > 1 ? (frames[frames.length - 1] - frames[0]) / 1000 : 0;
    figures.stream_events_per_s = Math.round(n / seconds);
    figures.stream_fps = span > 0 ? Math.round(((frames.length - 1) / span) * 10) / 10 : null;
    figures.stream_load_average = loadavg()[0];
  });

  // ---- a phone-sized screen ----
  await step('phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    check('no horizontal scrolling at 390 px', !overflow);
    await page.screenshot({ path: join(SCREENS, 'phone-chat.png') });
  });

  // ---- single sign-on (OpenID Connect with PKCE, the fake provider) ----
  await step('sso', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const p2 = await ctx.newPage();
    let handed = null;
    p2.on('framenavigated', (f) => {
      const m = /#\/oidc\/(.+)$/.exec(f.url());
      if (m) handed = m[1];
    });
    await p2.goto(URL_);
    await p2.getByRole('link', { name: 'Log in with single sign-on' }).click();
    await p2.getByTestId('live').filter({ hasText: /^live$/ }).waitFor({ timeout: 20000 });
    check('single sign-on logs in as the provider\'s user', /^alice/.test(await p2.locator('.who').textContent()));
    check('the token left the address bar', !p2.url().includes('oidc'), p2.url());
    check('the page kept nothing in storage', await p2.evaluate(() => localStorage.length + sessionStorage.length) === 0);
    const again = await fetch(`${URL_}/api/v1/auth/refresh`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: handed ?? 'none' }),
    });
    check('the handed-over refresh token is spent', handed && again.status === 401, `status ${again.status}`);
    await p2.screenshot({ path: join(SCREENS, 'sso.png') });
    await ctx.close();
  });

  check('no console errors or CSP violations', problems.length === 0, problems.join(' | '));
} finally {
  await browser.close();
}
console.log(`figures: ${JSON.stringify(figures)}`);
if (RESULTS) writeFileSync(RESULTS, JSON.stringify(figures, null, 2));
if (fails) {
  console.error(`the socket's life:\n  ${socketLog.join('\n  ')}`);
  console.error(`${fails} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
