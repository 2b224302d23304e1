// compress.mjs DIR — writes FILE.gz beside every text file of the build, so
// errand serve sends compressed files without compressing per request; and
// prints the sizes (the README's bundle figures come from this).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
const text = /\.(html|js|mjs|css|svg|json|txt|webmanifest)$/;

function* files(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (text.test(name)) yield p;
  }
}

let raw = 0;
let zipped = 0;
for (const p of files(dir)) {
  const data = readFileSync(p);
  const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(`${p}.gz`, gz);
  raw += data.length;
  zipped += gz.length;
  console.log(`${relative(dir, p).padEnd(40)} ${String(data.length).padStart(8)} B  gzip ${String(gz.length).padStart(7)} B`);
}
console.log(`${'total'.padEnd(40)} ${String(raw).padStart(8)} B  gzip ${String(zipped).padStart(7)} B`);
