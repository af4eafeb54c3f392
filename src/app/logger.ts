import pino from "pino";

export type Logger = (entry: Record<string, unknown>) => void;

/** Header and field names never written to logs. */
const REDACT = ["authorization", "secret", "*.secret", "headers.authorization", "englishName", "chineseName", "*.englishName", "*.chineseName"];

/**
 * Structured JSON logs (pino) on standard output. Entries carry a request id where there is one;
 * secrets and names are redacted by field name, and nothing logs request bodies or headers.
 */
export function createLogger(level: string): Logger {
  const logger = pino({ level, base: { service: "fpr-hub" }, redact: { paths: REDACT, censor: "[redacted]" }, timestamp: pino.stdTimeFunctions.isoTime });
  return (entry) => {
    const { level: entryLevel = "info", msg, ...rest } = entry as { level?: string; msg?: string };
    const write = (logger as unknown as Record<string, (obj: object, msg?: string) => void>)[entryLevel] ?? logger.info.bind(logger);
    write.call(logger, rest, msg);
  };
}
