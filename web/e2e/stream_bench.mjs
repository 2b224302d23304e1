// stream_bench.mjs — bench/web_stream.sh's browser half: logs in, streams two
// long answers at once ROUNDS times, and reports what the page drew meanwhile
// (frames per second by requestAnimationFrame, the longest frame, the main
// thread's long tasks from the Long Tasks API) and the token events per
// second rendered.  Figures only: nothing here passes or fails on a time.
//
// Environment: ERRAND_URL, API_TOKEN (set by bench/web_stream.sh), ROUNDS,
// TRACE (a file for a Chromium performance trace of the first round).
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const URL_ = process.env.ERRAND_URL;
const TOKEN = process.env.API_TOKEN;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TRACE = process.env.TRACE;
if (!URL_ || !TOKEN) {
  console.error('stream_bench.mjs: ERRAND_URL and API_TOKEN must be set (bench/web_stream.sh sets them)');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage', '--no-first-run'],
});
const rows = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await page.goto(URL_);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('live').filter({ hasText: /^live$/ }).waitFor({ timeout: 20000 });
  const turn = (text) => page.locator('article.turn').filter({ hasText: text }).last();
  for (let round = 1; round <= ROUNDS; round++) {
    // A new conversation each round: the page holds only this round's answers.
    await page.getByRole('button', { name: '+ New conversation' }).click();
    const names = [`fast stream ${round}a`, `fast stream ${round}b`];
    if (TRACE && round === 1) await browser.startTracing(page, { path: TRACE, screenshots: false });
    await page.evaluate(() => {
      window.__bench = { frames: [], long: [] };
      const tick = (ts) => {
        window.__bench.frames.push(ts);
        window.__bench.raf = requestAnimationFrame(tick);
      };
      window.__bench.raf = requestAnimationFrame(tick);
      window.__bench.obs = new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__bench.long.push(e.duration);
      });
      window.__bench.obs.observe({ type: 'longtask' });
    });
    const t0 = Date.now();
    const box = page.getByLabel('Message');
    for (const n of names) {
      await box.fill(`@code ${n}`);
      await box.press('Enter');
      await turn(n).waitFor();
    }
    for (const n of names) {
      await turn(n).getByTestId('status').filter({ hasText: /^(done|failed|cancelled)$/ }).waitFor({ timeout: 120000 });
    }
    const secs = (Date.now() - t0) / 1000;
    const b = await page.evaluate(() => {
      cancelAnimationFrame(window.__bench.raf);
      window.__bench.obs.disconnect();
      return { frames: window.__bench.frames, long: window.__bench.long };
    });
    if (TRACE && round === 1) await browser.stopTracing();
    let words = 0;
    for (const n of names) {
      const txt = (await turn(n).locator('.msg.assistant .prose').allTextContents()).join('');
      words += txt.split(' ').filter((w) => /^f\d+$/.test(w)).length;
    }
    const gaps = b.frames.slice(1).map((f, i) => f - b.frames[i]).sort((x, y) => x - y);
    const span = (b.frames.at(-1) - b.frames[0]) / 1000;
    const row = {
      round,
      load_average: Number(loadavg()[0].toFixed(2)),
      token_events: words,
      seconds: Number(secs.toFixed(2)),
      events_per_s: Math.round(words / secs),
      fps: Number(((b.frames.length - 1) / span).toFixed(1)),
      frame_p50_ms: Math.round(gaps[Math.floor(gaps.length / 2)] ?? 0),
      frame_p95_ms: Math.round(gaps[Math.floor(gaps.length * 0.95)] ?? 0),
      longest_frame_ms: Math.round(gaps.at(-1) ?? 0),
      long_tasks: b.long.length,
      long_task_ms: Math.round(b.long.reduce((s, d) => s + d, 0)),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  // The same page idle for two seconds: what this machine draws anyway.
  const idle = await page.evaluate(() => new Promise((resolve) => {
    const f = [];
    const tick = (ts) => {
      f.push(ts);
      if (ts - f[0] < 2000) requestAnimationFrame(tick);
      else resolve(Number(((f.length - 1) / ((ts - f[0]) / 1000)).toFixed(1)));
    };
    requestAnimationFrame(tick);
  }));
  console.log(JSON.stringify({ idle_fps: idle, load_average: Number(loadavg()[0].toFixed(2)) }));
  if (process.env.RESULTS) writeFileSync(process.env.RESULTS, JSON.stringify({ rounds: rows, idle_fps: idle }, null, 2));
  console.log('\nround  load  events/s  fps   p50 ms  p95 ms  longest ms  long tasks (ms)');
  for (const r of rows) {
    console.log(`${String(r.round).padEnd(6)} ${String(r.load_average).padEnd(5)} ${String(r.events_per_s).padEnd(9)} ` +
      `${String(r.fps).padEnd(5)} ${String(r.frame_p50_ms).padEnd(7)} ${String(r.frame_p95_ms).padEnd(7)} ` +
      `${String(r.longest_frame_ms).padEnd(11)} ${r.long_tasks} (${r.long_task_ms})`);
  }
  console.log(`idle page: ${idle} fps`);
} finally {
  await browser.close();
}
