// Every relative link in the README and docs/ points at a file of the repository, and every #anchor at
// a heading of that file: the README is short and points into docs/, so a moved section must not leave
// a reader at a dead link.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, spaces, - and _ kept), spaces → '-'. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const m = inFence ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m?.[1]) continue;
    const base = anchorOf(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function linksIn(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((l) => !/^[a-z]+:/i.test(l));
}

describe('links in README.md and docs/', () => {
  it('the anchor rule matches GitHub on the headings we use', () => {
    expect(anchorOf('A sale that did not happen never passes: the default thresholds')).toBe(
      'a-sale-that-did-not-happen-never-passes-the-default-thresholds',
    );
    expect(anchorOf('The reference service (`flashsale serve`)')).toBe('the-reference-service-flashsale-serve');
  });

  for (const page of PAGES) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const text = readFileSync(join(ROOT, page), 'utf8');
      const broken: string[] = [];
      for (const link of linksIn(text)) {
        const [path = '', anchor] = link.split('#');
        const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), path);
        if (!existsSync(file)) {
          broken.push(`${link} (no file ${relative(ROOT, file)})`);
          continue;
        }
        if (anchor && file.endsWith('.md') && !anchorsIn(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${link} (no heading #${anchor} in ${relative(ROOT, file)})`);
        }
      }
      expect(broken, `broken links in ${page}`).toEqual([]);
    });
  }
});
