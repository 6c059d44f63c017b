// Reads the import graph of a source tree from the files themselves. TypeScript's own pre-processor finds
// every specifier: import/export-from, `import type` (a type-only import is still a dependency), and
// dynamic import(). Only relative specifiers matter here: packages are not part of the layout.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Both paths relative to the tree's root, '/'-separated, ending in .ts. */
  readonly from: string;
  readonly to: string;
}

export function tsFilesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...tsFilesUnder(root, p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Every relative import of every .ts file under `dirs`, resolved to a path relative to `root`. */
export function importEdges(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of dirs.flatMap((d) => tsFilesUnder(root, d))) {
    const info = ts.preProcessFile(readFileSync(join(root, from), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = relative(root, join(root, dirname(from), fileName))
        .split(sep)
        .join('/')
        .replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/**
 * The folder a file of appliance/ belongs to: its directory below appliance/ (recording/journal is one
 * folder, recording/har another). A file directly in appliance/ is its own node: server.ts imports every
 * folder and errors.ts is imported by every folder, so lumping them together would make everything a cycle.
 */
export function folderOf(path: string, base = 'appliance'): string {
  const inner = path.slice(base.length + 1);
  const cut = inner.lastIndexOf('/');
  return cut < 0 ? inner : inner.slice(0, cut);
}

export type FolderGraph = Map<string, Map<string, ImportEdge>>;

/** Folder -> folder it imports -> one file-level import that makes the edge (to name it in a failure). */
export function folderGraph(edges: readonly ImportEdge[], base = 'appliance'): FolderGraph {
  const g: FolderGraph = new Map();
  for (const e of edges) {
    if (!e.from.startsWith(`${base}/`) || !e.to.startsWith(`${base}/`)) continue;
    const a = folderOf(e.from, base);
    const b = folderOf(e.to, base);
    if (a === b) continue;
    const out = g.get(a) ?? new Map<string, ImportEdge>();
    if (!out.has(b)) out.set(b, e);
    g.set(a, out);
  }
  return g;
}

export interface FolderCycle {
  /** Every folder of one strongly connected component: each reaches every other. */
  readonly folders: readonly string[];
  /** The shortest closed path through the component's first folder, to show how. */
  readonly path: readonly string[];
}

/** One entry per strongly connected component of more than one folder (Tarjan). */
export function folderCycles(g: FolderGraph): FolderCycle[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of [...(g.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => ({ folders: c, path: shortestCycle(g, c) }));
}

/** The shortest way from the component's first folder back to itself, staying inside the component. */
function shortestCycle(g: FolderGraph, component: readonly string[]): string[] {
  const start = component[0] ?? '';
  const inside = new Set(component);
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() ?? '';
    for (const w of [...(g.get(v)?.keys() ?? [])].sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let p = prev.get(v); p !== undefined; p = prev.get(p)) path.unshift(p);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}

/** "{a, b}: a -> b (a/x.ts imports b/y.ts) -> a (...)" */
export function describeCycle(g: FolderGraph, { folders, path: cycle }: FolderCycle): string {
  let text = `{${folders.join(', ')}}: ${cycle[0] ?? ''}`;
  for (let i = 1; i < cycle.length; i++) {
    const e = g.get(cycle[i - 1] ?? '')?.get(cycle[i] ?? '');
    text += ` -> ${cycle[i] ?? ''}${e ? ` (${e.from} imports ${e.to})` : ''}`;
  }
  return text;
}
