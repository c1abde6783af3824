/** The parsed tree as the adapters see it, read straight from libxml2's memory. */
import { at, childrenNamed, materialize, parseXml, pathOf, type XNode } from '../src/xml/parse.js';

const tree = (xml: string | Buffer): XNode => {
  const parsed = parseXml(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, undefined, (root) => materialize(root));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value;
};

test('text, CDATA, character and predefined references, comments and attributes read as libxml2 gives them', () => {
  const root = tree(`<?xml version="1.0" encoding="UTF-8"?>
<r xmlns="urn:example" a="1 &amp; 2" b="&#233;t&#xE9;">
  <name>Société &lt;Générale&gt; &amp; fils</name>
  <cdata><![CDATA[<not> & markup]]> and after</cdata>
  <commented>before<!-- ignored -->after</commented>
  <empty/>
  <parent><x>1</x></parent>
</r>`);
  expect(root.ns).toBe('urn:example');
  expect(root.attrs).toEqual({ a: '1 & 2', b: 'été' });
  const [name, cdata, commented, empty, parent] = root.children;
  expect(name!.text).toBe('Société <Générale> & fils');
  expect(cdata!.text).toBe('<not> & markup and after');
  expect(commented!.text).toBe('beforeafter');
  expect(empty!.text).toBe('');
  expect(empty!.attrs).toEqual({});
  expect(parent!.text).toBe('');
  expect(parent!.children[0]!.text).toBe('1');
});

test('line numbers, same-name positions and paths locate every element', () => {
  const root = tree('<list>\n<item>a</item>\n<other/>\n<item>b</item>\n</list>\n');
  const items = childrenNamed(root, 'item');
  expect(items.map((i) => [i.line, i.index, pathOf(i)])).toEqual([
    [2, 1, '/list/item[1]'],
    [4, 2, '/list/item[2]'],
  ]);
  expect(root.children[1]!.index).toBe(0);
  expect(at(items[1]).element).toBe('/list/item[2]');
});

test('a document in ISO-8859-1 reads as the same text', () => {
  const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\n<r><n>Hôpital Général</n></r>', 'latin1');
  expect(tree(latin1).children[0]!.text).toBe('Hôpital Général');
});

test('a long text survives intact and nodes cannot be read after their document is released', () => {
  const long = 'QUJD'.repeat(500_000);
  let kept: XNode | undefined;
  const parsed = parseXml(Buffer.from(`<r><pj>${long}</pj><n>x</n></r>`), undefined, (root) => {
    kept = root;
    return root.children[0]!.text.length;
  });
  expect(parsed).toEqual({ ok: true, value: long.length });
  expect(() => kept!.children[1]!.text).toThrow(/after its document was released/);
});
