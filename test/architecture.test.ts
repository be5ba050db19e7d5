// The house rule: data flows one way (scenario → schedule → load → measure → judge → report, with the
// target side — service, ledger, stock, stores — beside it), and no module imports upward. The layer
// table below is the rule, written once; docs/architecture.md shows the same table, and this test
// checks that it does. Each folder of src/ (and src/errors.ts) may import only the folders its row
// lists; every row lists only folders on lower floors, so no folder imports one that builds on it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/** Floor by floor, from the ground up: each folder and what it may import (besides itself). */
const LAYERS: ReadonlyArray<{ floor: number; folder: string; mayImport: readonly string[] }> = [
  { floor: 0, folder: 'contract', mayImport: [] },
  { floor: 0, folder: 'errors.ts', mayImport: [] },
  { floor: 1, folder: 'common', mayImport: ['contract', 'errors.ts'] },
  { floor: 2, folder: 'schedule', mayImport: ['contract', 'common', 'errors.ts'] },
  { floor: 2, folder: 'measure', mayImport: ['contract', 'common', 'errors.ts'] },
  { floor: 2, folder: 'audit', mayImport: ['contract', 'common', 'errors.ts'] },
  { floor: 2, folder: 'ledger', mayImport: ['contract', 'common', 'errors.ts'] },
  { floor: 2, folder: 'stores', mayImport: ['contract', 'common', 'errors.ts'] },
  { floor: 3, folder: 'faults', mayImport: ['measure', 'audit', 'contract', 'common', 'errors.ts'] },
  { floor: 3, folder: 'load', mayImport: ['schedule', 'measure', 'contract', 'common', 'errors.ts'] },
  { floor: 3, folder: 'thresholds', mayImport: ['audit', 'contract', 'common', 'errors.ts'] },
  { floor: 3, folder: 'stock', mayImport: ['stores', 'contract', 'common', 'errors.ts'] },
  { floor: 4, folder: 'judge', mayImport: ['measure', 'audit', 'thresholds', 'contract', 'common', 'errors.ts'] },
  { floor: 4, folder: 'report', mayImport: ['audit', 'contract', 'common', 'errors.ts'] },
  { floor: 4, folder: 'scenario', mayImport: ['faults', 'schedule', 'thresholds', 'contract', 'common', 'errors.ts'] },
  { floor: 4, folder: 'service', mayImport: ['ledger', 'stock', 'stores', 'contract', 'common', 'errors.ts'] },
  { floor: 4, folder: 'simulate', mayImport: ['stock', 'contract', 'common', 'errors.ts'] },
  {
    floor: 5,
    folder: 'run',
    mayImport: ['scenario', 'faults', 'service', 'stores', 'load', 'measure', 'audit', 'judge', 'report', 'thresholds', 'schedule', 'contract', 'common', 'errors.ts'],
  },
  {
    floor: 6,
    folder: 'plan',
    mayImport: ['run', 'scenario', 'faults', 'service', 'load', 'measure', 'audit', 'judge', 'report', 'thresholds', 'schedule', 'contract', 'common', 'errors.ts'],
  },
  {
    floor: 7,
    folder: 'cli',
    mayImport: ['plan', 'run', 'scenario', 'faults', 'service', 'simulate', 'stock', 'load', 'measure', 'audit', 'judge', 'report', 'thresholds', 'schedule', 'contract', 'common', 'errors.ts'],
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

/** Relative specifiers a file imports or re-exports (static and dynamic), or starts as a worker. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const patterns = [/\bfrom\s*'(\.[^']+)'/g, /\bimport\s*\(\s*'(\.[^']+)'\s*\)/g, /^\s*import\s+'(\.[^']+)'/gm, /new URL\(\s*'(\.[^']+)',\s*import\.meta\.url/g];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]);
  return found;
}

/** The folder of src/ a path belongs to ('errors.ts' for src/errors.ts), or null outside src/. */
function folderOf(path: string): string | null {
  const rel = relative(SRC, path);
  if (rel.startsWith('..')) return null;
  return rel.split(/[\\/]/)[0];
}

interface Edge {
  from: string;
  to: string;
}

function edges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) => importsOf(file).map((spec) => ({ from: file, to: normalize(join(dirname(file), spec)) })));
}

const rows = new Map(LAYERS.map((l) => [l.folder, l]));

describe('architecture', () => {
  it('every folder of src/ has a row in the layer table, and every row a folder', () => {
    const folders = readdirSync(SRC).filter((n) => !n.startsWith('.'));
    expect(folders.sort()).toEqual([...rows.keys()].sort());
  });

  it('every row lists only folders on lower floors (so the table itself has no way back up)', () => {
    for (const l of LAYERS) {
      for (const m of l.mayImport) {
        const target = rows.get(m);
        expect(target, `${l.folder} may import ${m}, which has no row`).toBeDefined();
        expect(target!.floor, `${l.folder} (floor ${l.floor}) may import ${m} (floor ${target!.floor})`).toBeLessThan(l.floor);
      }
    }
  });

  it('no module imports upward: each import of src/ is in its folder or its row', () => {
    const upward: string[] = [];
    for (const e of edges()) {
      const from = folderOf(e.from)!;
      const to = folderOf(e.to);
      if (to === null) {
        // Data files (presets, schemas, the k6 script) are read, not imported: only code counts.
        if (!e.to.endsWith('.ts')) continue;
        upward.push(`${relative(ROOT, e.from)} reaches outside src/: ${relative(ROOT, e.to)}`);
        continue;
      }
      if (to === from) continue;
      if (!rows.get(from)?.mayImport.includes(to)) upward.push(`${relative(ROOT, e.from)} imports ${relative(ROOT, e.to)} (${from} may import: ${rows.get(from)?.mayImport.join(', ') || 'nothing'})`);
    }
    expect(upward).toEqual([]);
  });

  it('no file imports itself round a loop', () => {
    const graph = new Map<string, string[]>();
    for (const e of edges()) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const loops: string[] = [];
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        loops.push([...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(loops).toEqual([]);
  });

  it('the test can fail: an upward import is found', () => {
    const fake = join(SRC, 'contract', 'fake.ts');
    const to = normalize(join(dirname(fake), '../load/engine.ts'));
    expect(rows.get(folderOf(fake)!)!.mayImport.includes(folderOf(to)!)).toBe(false);
  });

  it('docs/architecture.md shows the same table', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    for (const l of LAYERS) {
      const name = l.folder === 'errors.ts' ? 'src/errors.ts' : `src/${l.folder}/`;
      const line = doc.split('\n').find((s) => s.startsWith(`| ${l.floor} | \`${name}\``));
      expect(line, `docs/architecture.md has no row "| ${l.floor} | \`${name}\` | …"`).toBeDefined();
      const listed = (line!.split('|')[3] ?? '').match(/[a-z]+(\.ts)?/g) ?? [];
      expect(listed.filter((w) => w !== 'nothing').sort(), `docs/architecture.md's row for ${name}`).toEqual([...l.mayImport].sort());
    }
  });
});
