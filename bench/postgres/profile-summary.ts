/** Self time of a .cpuprofile grouped by file (and top functions): tsx bench/postgres/profile-summary.ts FILE */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const group = (f: (n: Node) => string): [string, number][] => {
  const m = new Map<string, number>();
  for (const [id, us] of self) {
    const k = f(byId.get(id)!);
    m.set(k, (m.get(k) ?? 0) + us);
  }
  return [...m].sort((a, b) => b[1] - a[1]);
};
const short = (u: string): string => u.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/') || '(native)';
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, us] of group((n) =>
  n.callFrame.url ? short(n.callFrame.url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, '$1') : n.callFrame.functionName,
).slice(0, 15))
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log('--- top functions');
for (const [k, us] of group(
  (n) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber}`,
).slice(0, 20))
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
