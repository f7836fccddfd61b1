// Adds lockfile entries for optional platform packages that npm 11 leaves out when the registry
// answers no metadata for them (seen here for @duckdb/node-bindings-* and msgpackr-extract);
// without them `npm ci` refuses the lock. Run after `npm install`: node scripts/complete-lockfile.mjs package-lock.json
import fs from 'node:fs';
const file = process.argv[2];
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pk = lock.packages;
const platform = (name) => {
  const os = /darwin/.test(name) ? ['darwin'] : /win32/.test(name) ? ['win32'] : /linux/.test(name) ? ['linux'] : undefined;
  const cpu = /arm64/.test(name) ? ['arm64'] : /x64/.test(name) ? ['x64'] : /-arm(\b|$)/.test(name) ? ['arm'] : undefined;
  const libc = /musl/.test(name) ? ['musl'] : undefined;
  return { os, cpu, libc };
};
let added = 0;
for (const [path, entry] of Object.entries(pk)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pk[key] || pk[`${path}/node_modules/${dep}`]) continue;
    const p = platform(dep);
    pk[key] = { version, ...(p.cpu ? { cpu: p.cpu } : {}), ...(p.libc ? { libc: p.libc } : {}), ...(entry.dev ? { dev: true } : {}), optional: true, ...(p.os ? { os: p.os } : {}) };
    added++;
    console.log('added', key, version, JSON.stringify(p));
  }
}
lock.packages = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(added, 'entries added');
