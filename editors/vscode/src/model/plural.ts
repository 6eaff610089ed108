/** `1 change`, `2 changes`: every count the extension shows agrees with its noun through here. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
