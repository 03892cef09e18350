/**
 * Where a value of a parsed YAML file sits: maps a field path (`['steps', 2, 'try', 0, 'apply']`) to
 * file:line:column, and renders paths as `steps[2].try[0].apply`.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from '../errors.ts';

export type FieldPath = readonly (string | number)[];

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

export interface LocateOptions {
  /** Point at the key of the last path segment (for unknown keys) rather than its value. */
  key?: boolean;
}

export class SourceMap {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Location of the offset in the file text (0-based), 1-based line and column. */
  at(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /**
   * The location of `path`; when part of the path does not exist (a missing required field), the key of the
   * deepest mapping entry that does.
   */
  locate(path: FieldPath, options: LocateOptions = {}): SourceLocation {
    let node: unknown = this.doc.contents;
    let best: Node | undefined = isNode(node) ? node : undefined;
    let lastKey: Node | undefined;
    let complete = true;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) {
          complete = false;
          break;
        }
        lastKey = isNode(pair.key) ? pair.key : undefined;
        node = pair.value;
        best = isNode(pair.value) ? pair.value : lastKey;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        lastKey = undefined;
        best = isNode(node) ? node : best;
      } else {
        complete = false;
        break;
      }
    }
    const target = (options.key && complete) || !complete ? (lastKey ?? best) : best;
    const offset = target?.range?.[0] ?? 0;
    return this.at(offset);
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && 'range' in v;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  return undefined;
}
