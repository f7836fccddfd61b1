// Piscina worker for side work: registers tsx, then hands each task to the default export of the
// TypeScript module named in the task (`{ module, input }`), so side work is written as plain modules.
import { register } from 'tsx/esm/api';

register();
const loaded = new Map();

export default async function run({ module, input }) {
  let fn = loaded.get(module);
  if (!fn) {
    const mod = await import(module);
    if (typeof mod.default !== 'function') throw new Error(`side-work module ${module} must export a default function (input) => output`);
    fn = mod.default;
    loaded.set(module, fn);
  }
  return fn(input);
}
