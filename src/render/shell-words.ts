// Splits a command string the way a POSIX shell splits words, without any
// expansion: whitespace separates, single quotes are literal, double quotes
// allow \" \\ \$ \` escapes, a backslash outside quotes escapes one character.
// Variables, globs and operators are NOT interpreted: `$HOME` stays `$HOME`.

export type SplitResult = { ok: true; words: string[] } | { ok: false; error: string };

export function splitShellWords(input: string): SplitResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: 'has an unterminated single quote' };
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= input.length) return { ok: false, error: 'has an unterminated double quote' };
        const d = input[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) {
          if (input[i + 1] !== '\n') word += input[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= input.length) return { ok: false, error: 'ends with a lone backslash' };
      if (input[i + 1] !== '\n') {
        word += input[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) return { ok: false, error: 'is empty' };
  return { ok: true, words };
}
