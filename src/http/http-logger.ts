// Where HTTP mode reports what it does: stderr by default, never stdout. Messages never carry tokens,
// Authorization headers or whole session ids.

import { logError, logInfo } from "../log.js";

export interface HttpLogger {
  info(message: string): void;
  error(message: string): void;
}

export const stderrLogger: HttpLogger = { info: logInfo, error: logError };
