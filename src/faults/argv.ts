// An exec fault's command, written as one string, into argv — without a shell. A shell would expand
// variables, globs and `~`, and read `|`, `;`, `&&`, `>` as its own operators: a scenario that looks
// like one command could run several. So the string is split the way a shell splits words, and nothing
// else: whitespace separates words; '…' is literal; inside "…" only \" and \\ are escapes; outside
// quotes a backslash escapes the next character. Anything that only means something to a shell is
// refused with the reason, so the user either quotes it (they meant the character) or asks for a
// shell with "shell": true (they meant the shell). Pure, so the scenario's validation uses it.

/** Characters that only a shell gives meaning to, outside quotes. */
const SHELL_OPERATORS = new Set(['|', '&', ';', '<', '>', '(', ')']);
const GLOB = new Set(['*', '?', '[']);

/** Stays private to faults: validation catches it and reports it as an issue naming the fault's field. */
export class ArgvError extends Error {}

function refuse(what: string): never {
  throw new ArgvError(`${what}: without "shell": true the command runs without a shell, so quote it ('…') to mean the character, or set "shell": true`);
}

/** Splits `command` into argv; throws ArgvError saying what only a shell would understand. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    const atWordStart = !inWord;
    inWord = true;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new ArgvError(`a ' opened at character ${i + 1} is never closed`);
      word += command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new ArgvError('a " is never closed');
        const d = command[i];
        if (d === '"') break;
        if (d === '\\' && (command[i + 1] === '"' || command[i + 1] === '\\')) {
          word += command[i + 1];
          i += 2;
          continue;
        }
        if (d === '$' || d === '`') refuse(`"${d}" inside "…" is expanded by a shell, and nothing is expanded here`);
        word += d;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= n) throw new ArgvError('the command ends with a lone \\');
      word += command[i + 1];
      i += 2;
    } else {
      if (SHELL_OPERATORS.has(c)) refuse(`"${c}" is a shell operator`);
      if (c === '$' || c === '`') refuse(`"${c}" is expanded by a shell, and nothing is expanded here`);
      if (GLOB.has(c)) refuse(`"${c}" is a shell wildcard, and nothing is expanded here`);
      if (atWordStart && (c === '~' || c === '#')) refuse(c === '~' ? '"~" at the start of a word is the home folder to a shell' : '"#" at the start of a word begins a shell comment');
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new ArgvError('is empty');
  return words;
}
