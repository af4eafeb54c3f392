import type { Readable } from "node:stream";

export interface Line {
  number: number;
  /** The decoded text, or null when the bytes are not valid UTF-8 or the line is too long. */
  text: string | null;
  /** The line was longer than MAX_LINE_BYTES: its bytes were dropped as they came. */
  tooLong?: true;
}

/** A record is a few hundred bytes; a longer line is refused, never held (or re-copied) whole. */
export const MAX_LINE_BYTES = 64 * 1024;

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
  /** Inside a line already longer than the limit: its bytes are skipped up to its end. */
  let skipping = false;
  let number = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
      number += 1;
      const end = i > start && data[i - 1] === 13 ? i - 1 : i;
      if (skipping || end - start > MAX_LINE_BYTES) yield { number, text: null, tooLong: true };
      else if (end > start) yield { number, text: decode(data.subarray(start, end), number === 1) };
      skipping = false;
      start = i + 1;
    }
    const rest = data.length - start;
    if (skipping || rest > MAX_LINE_BYTES) {
      skipping = true;
      pending = Buffer.alloc(0);
    } else {
      pending = Buffer.from(data.subarray(start));
    }
  }
  if (skipping) yield { number: number + 1, text: null, tooLong: true };
  else if (pending.length > 0) yield { number: number + 1, text: decode(pending, number === 0) };
}
