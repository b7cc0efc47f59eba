// The flags the server's Node process is best started with, shared by the command itself and the client
// configurations it prints: a small young generation keeps peak memory down (see index.ts).

export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
