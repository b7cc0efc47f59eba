// Diagnostics for operators. stdout belongs to the MCP protocol, so everything here goes to stderr.

export function logInfo(message: string): void {
  process.stderr.write(`[trace-doctor] ${message}\n`);
}

export function logError(message: string): void {
  process.stderr.write(`[trace-doctor] error: ${message}\n`);
}
