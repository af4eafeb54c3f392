import type { Readable } from "node:stream";

export interface Line {
  number: number;
  /** The decoded text, or null when the bytes are not valid UTF-8. */
  text: string | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Buffer, first: boolean): string | null {
  try {
    const text = decoder.decode(bytes);
    return first && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return null;
  }
}

/**
 * Splits a byte stream into numbered lines without holding more than one chunk and one partial
 * line in memory; each line is decoded strictly, so a line in another encoding is reported
 * rather than silently mangled. Blank lines are skipped (but counted).
 */
export async function* readLines(input: Readable, onBytes?: (bytes: number) => void): AsyncGenerator<Line> {
  let pending: Buffer = Buffer.alloc(0);
  let number = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
      number += 1;
      const end = i > start && data[i - 1] === 13 ? i - 1 : i;
      if (end > start) yield { number, text: decode(data.subarray(start, end), number === 1) };
      start = i + 1;
    }
    pending = Buffer.from(data.subarray(start));
    data = Buffer.alloc(0);
  }
  if (pending.length > 0) yield { number: number + 1, text: decode(pending, number === 0) };
}
