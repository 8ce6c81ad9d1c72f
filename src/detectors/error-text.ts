/**
 * Reading error texts. A span's error message is often a whole stack trace: a Python
 * traceback quotes the source line of every frame (`result = fut.result(timeout)`), a Java
 * or Node trace names every method it passed through. Classifying such a text by any word in
 * it calls a ValueError raised next to a timeout argument a timeout. Classifiers read the
 * headline instead: the exception line that says what was raised.
 */

const PY_TRACEBACK = /^\s*Traceback \(most recent call last\):?\s*$/m;
/** Lines of a Python traceback that are not the exception: its header and the chaining notes. */
const PY_NOT_EXCEPTION = /^(?:Traceback \(most recent call last\)|During handling of the above exception|The above exception was the direct cause)/;
/** A frame of a Java, JavaScript, Python or Go stack trace. */
const FRAME = /^\s+(?:at\s+\S|File "|\.\.\. \d+ more)|^goroutine \d+ \[/m;
const CAUSED_BY = /^\s*Caused by:\s*(.+)$/gm;

/**
 * The headline of an error text: for a Python traceback, the exception line it ends with
 * (of the last traceback, when exceptions were chained); for another stack trace, its first
 * line and any `Caused by:` lines; any other text as is.
 */
export function errorHeadline(message: string): string {
  if (PY_TRACEBACK.test(message)) {
    const lines = message.split(/\r?\n/);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      // Frames and their source lines are indented; the exception line is not.
      if (line.trim() === '' || /^\s/.test(line) || PY_NOT_EXCEPTION.test(line)) continue;
      return line.trim();
    }
    return 'Python traceback';
  }
  if (FRAME.test(message)) {
    const first = message.split(/\r?\n/).find((l) => l.trim() !== '' && !FRAME.test(l)) ?? '';
    const causes = [...message.matchAll(CAUSED_BY)].map((m) => m[1]!.trim());
    return [first.trim(), ...causes].filter((l) => l !== '').join('; ');
  }
  return message;
}

/**
 * Exception type names split into words, so word patterns read them: `ReadTimeout` →
 * `Read Timeout`, `APITimeoutError` → `API Timeout Error`, `ServiceUnavailableError` →
 * `Service Unavailable Error`. All-capital codes (`ETIMEDOUT`) are left as they are.
 */
export function splitTypeNames(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
}

/** The text classifiers read: the headline, type names split into words. */
export function classifiableError(message: string): string {
  return splitTypeNames(errorHeadline(message));
}
