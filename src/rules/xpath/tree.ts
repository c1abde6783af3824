/**
 * The document tree the official rules' XPath runs over: every element, attribute and text
 * node with its namespace, parent, document order and source line. Built in one pass from
 * the libxml2 document the reading stage already holds (xml/parse.ts walkRaw), so it
 * outlives that document and costs one small object per node.
 */
import { walkRaw, type XNode } from '../../xml/parse.js';

export const DOCUMENT = 9;
export const ELEMENT = 1;
export const ATTRIBUTE = 2;
export const TEXT = 3;

const NONE: RNode[] = [];

export class RNode {
  /** Element and text children, in order (elements only in `elems`); texts and attributes share one empty list. */
  kids: RNode[];
  elems: RNode[];
  attrs: RNode[];
  /** Position among the parent's element children (0-based), for sibling axes. */
  slot = 0;
  /** The last document order inside this element (its attributes and descendants); -1 when unknown. */
  end = -1;
  private stringValue?: string;
  private qualified?: string;
  /** The node's typed value, made once by values.ts atomize (kept here so that trees carry no value types). */
  atom?: object;
  private byLocal?: Map<string, RNode[]>;
  constructor(
    readonly kind: number,
    readonly local: string,
    readonly ns: string,
    readonly parent: RNode | null,
    /** Document order. */
    readonly order: number,
    readonly line: number,
    /** Text of a text or attribute node; an element's prefix. */
    readonly value: string,
  ) {
    const leaf = kind === TEXT || kind === ATTRIBUTE;
    this.kids = leaf ? NONE : [];
    this.elems = leaf ? NONE : [];
    this.attrs = leaf ? NONE : [];
  }

  /** The XPath string value: a text or attribute's value, the concatenated descendant texts of an element. */
  string(): string {
    if (this.kind !== ELEMENT && this.kind !== DOCUMENT) return this.value;
    if (this.stringValue !== undefined) return this.stringValue;
    let s = '';
    if (this.kids.length === 1 && this.kids[0]!.kind === TEXT) s = this.kids[0]!.value;
    else for (const k of this.kids) s += k.string();
    return (this.stringValue = s);
  }

  /** The name as written (prefix:local for an element with a prefix), as XPath name() gives it. */
  name(): string {
    if (this.kind !== ELEMENT || !this.value) return this.local;
    return (this.qualified ??= `${this.value}:${this.local}`);
  }

  /** The element children with a local name, in order (indexed on first use; never mutate the result). */
  childrenNamed(local: string): RNode[] {
    if (!this.byLocal) {
      this.byLocal = new Map();
      for (const k of this.elems) {
        const l = this.byLocal.get(k.local);
        if (l) l.push(k);
        else this.byLocal.set(k.local, [k]);
      }
    }
    return this.byLocal.get(local) ?? NONE;
  }

  /** The node's path as errors give it (like xml/parse.ts pathOf: a step index only when the name repeats). */
  path(): string {
    const steps: string[] = [];
    for (let n: RNode | null = this; n && n.kind !== DOCUMENT; n = n.parent) {
      if (n.kind === ATTRIBUTE) {
        steps.push(`@${n.local}`);
        continue;
      }
      const p: RNode | null = n.parent;
      let same = 0;
      let index = 0;
      if (p) for (const s of p.elems as RNode[]) if (s.local === n.local) { same++; if (s === n) index = same; }
      steps.push(same > 1 ? `${n.local}[${index}]` : n.local);
    }
    return `/${steps.reverse().join('/')}`;
  }
}

/** A whole document: its document node and the number of nodes (for document order). */
export interface RDocument {
  root: RNode;
  size: number;
}

/** The rule tree of a live parsed document (the root element the reading stage holds). */
export function treeOf(root: XNode): RDocument {
  const doc = new RNode(DOCUMENT, '', '', null, 0, 0, '');
  let order = 1;
  let current = doc;
  const ok = walkRaw(root, {
    element(name, ns, prefix, line) {
      const n = new RNode(ELEMENT, name, ns, current, order++, line, prefix);
      n.slot = current.elems.length;
      current.kids.push(n);
      current.elems.push(n);
      current = n;
    },
    attr(name, ns, value) {
      current.attrs.push(new RNode(ATTRIBUTE, name, ns, current, order++, current.line, value));
    },
    text(value) {
      current.kids.push(new RNode(TEXT, '', '', current, order++, current.line, value));
    },
    leave() {
      current.end = order - 1;
      current = current.parent!;
    },
  });
  if (!ok) throw new Error('the rules need the live parsed document, not a copy');
  doc.end = order - 1;
  return { root: doc, size: order };
}
