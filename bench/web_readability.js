// web_readability.js — Mozilla's Readability on jsdom, the benchmark-only peer
// of bench/web.py: the text of every page in DIR (written to OUTDIR) and the
// CPU seconds of REPEAT rounds of parse + extract.
//   node web_readability.js DIR OUTDIR REPEAT
const fs = require("fs");
const path = require("path");
const { JSDOM, VirtualConsole } = require("jsdom");
const { Readability } = require("@mozilla/readability");

const [dir, out, repeat] = [process.argv[2], process.argv[3], Number(process.argv[4] || 5)];
const pages = fs.readdirSync(dir).filter((f) => f.endsWith(".html")).sort()
  .map((f) => ({ name: f.slice(0, -5), html: fs.readFileSync(path.join(dir, f), "utf8") }));
const quiet = new VirtualConsole();   // pages' CSS and scripts are not our concern

function extract(html) {
  const dom = new JSDOM(html, { url: "http://bench.test/", virtualConsole: quiet });
  const article = new Readability(dom.window.document).parse();
  dom.window.close();
  return article ? article.textContent : "";
}

for (const p of pages) fs.writeFileSync(path.join(out, p.name + ".txt"), extract(p.html));
const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p.html), 0);
const t0 = process.cpuUsage();
for (let r = 0; r < repeat; r++) for (const p of pages) extract(p.html);
const cpu = process.cpuUsage(t0);
const secs = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ pages: pages.length, bytes: bytes * repeat, seconds: secs,
                             mb_per_s: (bytes * repeat) / secs / 1e6 }));
