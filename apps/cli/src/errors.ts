/**
 * A mistake in how xmc was called or in its input: printed as one line, exit status 2.
 * The message is made one line of plain text ({@link oneLine}): it often quotes what the user
 * or a file gave, which may hold newlines or terminal escape sequences.
 */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(oneLine(message));
    this.name = "UsageError";
    this.exitCode = exitCode;
  }
}

/**
 * `text` as one line of plain text: control characters (C0, DEL, C1), line and paragraph
 * separators and bidirectional overrides become `\n`, `\t`, `\xHH` or `\uHHHH` escapes, so a
 * quoted argument or a name from a hostile file can neither start a new line nor send
 * terminal escape sequences.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
