// How the server keeps its memory small, set once it is serving rather than given to node. A server's
// answers are short-lived garbage: a young generation that no longer grows (V8 doubles it up to 16 MB
// semi-spaces while a request allocates fast) and an old generation grown by 40 % at a time (rather
// than V8's up to fourfold) keep peak memory under 100 MB instead of 130+ at no measured cost in speed.
// They are set at run time, after the first answers: any V8 flag on node's command line makes Node
// compile its own built-in modules afresh (its code cache is keyed by the flags), some 10–12 ms of
// every start, and a client starts a stdio server often.

export const SERVER_HEAP_FLAGS = "--semi-space-growth-factor=1 --heap-growing-percent=40";

let applied = false;

/** Sets SERVER_HEAP_FLAGS in this process, once. */
export function applyServerHeapFlags(): void {
  if (applied) return;
  applied = true;
  process.getBuiltinModule("node:v8").setFlagsFromString(SERVER_HEAP_FLAGS);
}
