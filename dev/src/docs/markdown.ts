import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../stack/paths';

/**
 * The little of Markdown the docs tests need: the pages (README.md and docs/*.md), their headings'
 * anchors as GitHub renders them, their relative links, and their fenced code blocks. Written by hand
 * because the docs use only plain fences, ATX headings and inline links.
 */

/** README.md and every docs/*.md, relative to the repository root. */
export function docPages(root = REPO_ROOT): string[] {
  const docsDir = path.join(root, 'docs');
  const pages = existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => path.join('docs', name))
    : [];
  return ['README.md', ...pages];
}

export interface CodeBlock {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  text: string;
  /** The reason of a `<!-- docs-test: skip <reason> -->` comment right before the fence, if any. */
  skipReason?: string;
}

export interface MarkdownLink {
  page: string;
  line: number;
  target: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const SKIP_COMMENT = /^<!--\s*docs-test:\s*skip\s+(.+?)\s*-->$/;

interface ParsedPage {
  blocks: CodeBlock[];
  /** Lines outside code blocks, with their 1-based numbers. */
  prose: { line: number; text: string }[];
}

function parse(page: string, markdown: string): ParsedPage {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const prose: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) {
      prose.push({ line: i + 1, text: lines[i] ?? '' });
      continue;
    }
    const fence = open[2] ?? '```';
    const body: string[] = [];
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(fence)) body.push(lines[end++] ?? '');
    const previous =
      lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim() !== '') ?? '';
    const skip = SKIP_COMMENT.exec(previous.trim());
    blocks.push({
      page,
      line: i + 1,
      language: open[3] ?? '',
      text: body.join('\n'),
      ...(skip ? { skipReason: skip[1] } : {}),
    });
    i = end;
  }
  return { blocks, prose };
}

function readPage(page: string, root: string): string {
  return readFileSync(path.join(root, page), 'utf8');
}

/** The fenced code blocks of a page, in order. */
export function codeBlocks(page: string, root = REPO_ROOT): CodeBlock[] {
  return parse(page, readPage(page, root)).blocks;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a page's headings make, with GitHub's `-1`, `-2` suffixes for repeated ones. */
export function pageAnchors(page: string, root = REPO_ROOT): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of parse(page, readPage(page, root)).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = headingAnchor(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The links of a page's prose (not inside code blocks or inline code) that are not absolute URLs. */
export function relativeLinks(page: string, root = REPO_ROOT): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { line, text } of parse(page, readPage(page, root)).prose) {
    const withoutCode = text.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length));
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ page, line, target });
    }
  }
  return links;
}

/** Why a relative link does not resolve, or undefined when its file (and anchor) exist. */
export function brokenLinkReason(link: MarkdownLink, root = REPO_ROOT): string | undefined {
  const [file = '', anchor] = link.target.split('#');
  const targetPage = file === '' ? link.page : path.normalize(path.join(path.dirname(link.page), file));
  if (targetPage.startsWith('..')) return `${link.target} points outside the repository`;
  if (!existsSync(path.join(root, targetPage))) return `${targetPage} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!targetPage.endsWith('.md')) return `${targetPage} is not Markdown, it has no #${anchor}`;
  if (!pageAnchors(targetPage, root).has(decodeURIComponent(anchor)))
    return `${targetPage} has no heading #${anchor}`;
  return undefined;
}
