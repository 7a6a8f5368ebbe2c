import type { Rng } from './rng.ts';

type Node =
  | { kind: 'chars'; ranges: Array<[number, number]>; negated: boolean }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

const EMPTY: Node = { kind: 'seq', items: [] };
const DIGIT: Array<[number, number]> = [[48, 57]];
const WORD: Array<[number, number]> = [
  [97, 122],
  [65, 90],
  [48, 57],
  [95, 95],
];
/** Characters tried, in order, for negated classes and shorthand complements. */
const PRINTABLE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.';

/**
 * A string that matches `pattern`, for the regex subset JSON schemas use in practice: literals, escapes,
 * character classes, groups, alternation and quantifiers. Returns undefined for lookarounds, backreferences
 * or anything else it cannot sample; the caller then keeps its plain candidate.
 */
export function sampleRegex(pattern: string, rng: Rng): string | undefined {
  try {
    const parser = { source: pattern, pos: 0 };
    const node = parseAlternation(parser);
    if (parser.pos !== pattern.length) return undefined;
    return sample(node, rng);
  } catch {
    return undefined;
  }
}

interface Parser {
  source: string;
  pos: number;
}

function parseAlternation(p: Parser): Node {
  const options = [parseSequence(p)];
  while (p.source[p.pos] === '|') {
    p.pos += 1;
    options.push(parseSequence(p));
  }
  return options.length === 1 ? (options[0] ?? EMPTY) : { kind: 'alt', options };
}

function parseSequence(p: Parser): Node {
  const items: Node[] = [];
  while (p.pos < p.source.length && p.source[p.pos] !== '|' && p.source[p.pos] !== ')') {
    const atom = parseAtom(p);
    items.push(parseQuantifier(p, atom));
  }
  return { kind: 'seq', items };
}

function parseAtom(p: Parser): Node {
  const char = p.source[p.pos++] as string;
  if (char === '^' || char === '$') return EMPTY;
  if (char === '.') return literal('a');
  if (char === '[') return parseClass(p);
  if (char === '\\') return parseEscape(p);
  if (char === '(') {
    if (p.source.startsWith('?:', p.pos)) p.pos += 2;
    else if (p.source.startsWith('?<', p.pos) && !/^\?<[=!]/.test(p.source.slice(p.pos))) {
      p.pos = p.source.indexOf('>', p.pos) + 1;
    } else if (p.source[p.pos] === '?') throw new Error('lookaround');
    const inner = parseAlternation(p);
    if (p.source[p.pos++] !== ')') throw new Error('unclosed group');
    return inner;
  }
  return literal(char);
}

function parseEscape(p: Parser): Node {
  const char = p.source[p.pos++] as string;
  const shorthand: Record<string, Node> = {
    d: { kind: 'chars', ranges: DIGIT, negated: false },
    D: { kind: 'chars', ranges: DIGIT, negated: true },
    w: { kind: 'chars', ranges: WORD, negated: false },
    W: { kind: 'chars', ranges: WORD, negated: true },
    s: literal(' '),
    S: literal('a'),
    b: EMPTY,
    B: EMPTY,
  };
  if (shorthand[char]) return shorthand[char];
  if (/[1-9]/.test(char)) throw new Error('backreference');
  return literal(escapedChar(p, char));
}

function escapedChar(p: Parser, char: string): string {
  const controls: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', '0': '\0' };
  if (controls[char]) return controls[char];
  if (char === 'x' || char === 'u') {
    const braced = char === 'u' && p.source[p.pos] === '{';
    const length = char === 'x' ? 2 : 4;
    const hex = braced
      ? p.source.slice(p.pos + 1, p.source.indexOf('}', p.pos))
      : p.source.slice(p.pos, p.pos + length);
    p.pos += braced ? hex.length + 2 : length;
    return String.fromCodePoint(Number.parseInt(hex, 16));
  }
  return char;
}

function parseClass(p: Parser): Node {
  const negated = p.source[p.pos] === '^';
  if (negated) p.pos += 1;
  const ranges: Array<[number, number]> = [];
  let first = true;
  while (p.pos < p.source.length && (p.source[p.pos] !== ']' || first)) {
    first = false;
    const low = classChar(p, ranges);
    if (low === undefined) continue;
    if (p.source[p.pos] === '-' && p.source[p.pos + 1] !== ']' && p.pos + 1 < p.source.length) {
      p.pos += 1;
      const high = classChar(p, ranges) ?? low;
      ranges.push([low, high]);
    } else ranges.push([low, low]);
  }
  if (p.source[p.pos++] !== ']') throw new Error('unclosed class');
  return { kind: 'chars', ranges, negated };
}

/** One class member as a code point; shorthands like \d are added to `ranges` directly. */
function classChar(p: Parser, ranges: Array<[number, number]>): number | undefined {
  const char = p.source[p.pos++] as string;
  if (char !== '\\') return char.codePointAt(0);
  const next = p.source[p.pos++] as string;
  if (next === 'd') ranges.push(...DIGIT);
  else if (next === 'w') ranges.push(...WORD);
  else if (next === 's') ranges.push([32, 32]);
  else return escapedChar(p, next).codePointAt(0);
  return undefined;
}

function parseQuantifier(p: Parser, node: Node): Node {
  const char = p.source[p.pos];
  let range: [number, number] | undefined;
  if (char === '*') range = [0, 2];
  else if (char === '+') range = [1, 3];
  else if (char === '?') range = [0, 1];
  const braces = char === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(p.source.slice(p.pos)) : null;
  if (braces) {
    const min = Number(braces[1]);
    const max = braces[2] === undefined ? min : braces[3] ? Number(braces[3]) : min + 2;
    range = [min, Math.min(max, min + 3)];
    p.pos += braces[0].length;
  } else if (range) p.pos += 1;
  if (!range) return node;
  if (p.source[p.pos] === '?') p.pos += 1;
  return { kind: 'repeat', node, min: range[0], max: range[1] };
}

function literal(char: string): Node {
  const code = char.codePointAt(0) ?? 0;
  return { kind: 'chars', ranges: [[code, code]], negated: false };
}

function sample(node: Node, rng: Rng): string {
  switch (node.kind) {
    case 'seq':
      return node.items.map((item) => sample(item, rng)).join('');
    case 'alt':
      return sample(rng.pick(node.options), rng);
    case 'repeat':
      return Array.from({ length: rng.int(node.min, node.max) }, () => sample(node.node, rng)).join('');
    case 'chars':
      return sampleChars(node.ranges, node.negated, rng);
  }
}

function sampleChars(ranges: Array<[number, number]>, negated: boolean, rng: Rng): string {
  const inRanges = (code: number) => ranges.some(([low, high]) => code >= low && code <= high);
  if (negated) {
    const allowed = [...PRINTABLE].find((char) => !inRanges(char.codePointAt(0) ?? 0));
    if (allowed === undefined) throw new Error('empty class');
    return allowed;
  }
  const [low, high] = rng.pick(ranges);
  return String.fromCodePoint(rng.int(low, high));
}
