import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitShellWords } from '../../../src/render/shell-words';

const words = (s: string) => {
  const r = splitShellWords(s);
  assert.ok(r.ok, `split ${s}`);
  return r.words;
};

test('splits on whitespace', () => assert.deepEqual(words('  /bin/httpd -f  -p 3000\t-h /www '), ['/bin/httpd', '-f', '-p', '3000', '-h', '/www']));
test('single quotes are literal', () => assert.deepEqual(words(`sh -c 'echo "$X" \\n'`), ['sh', '-c', 'echo "$X" \\n']));
test('double quotes allow escapes', () => assert.deepEqual(words(`echo "a \\"b\\" \\$HOME \\x"`), ['echo', 'a "b" $HOME \\x']));
test('backslash escapes outside quotes', () => assert.deepEqual(words('a\\ b c'), ['a b', 'c']));
test('quotes join with adjacent text', () => assert.deepEqual(words(`--name='a b'c ""`), ['--name=a bc', '']));
test('no expansion of variables or globs', () => assert.deepEqual(words('echo $HOME *.txt ~'), ['echo', '$HOME', '*.txt', '~']));
test('errors', () => {
  assert.deepEqual(splitShellWords("a 'b"), { ok: false, error: 'has an unterminated single quote' });
  assert.deepEqual(splitShellWords('a "b'), { ok: false, error: 'has an unterminated double quote' });
  assert.deepEqual(splitShellWords('a \\'), { ok: false, error: 'ends with a lone backslash' });
  assert.deepEqual(splitShellWords('   '), { ok: false, error: 'is empty' });
});
