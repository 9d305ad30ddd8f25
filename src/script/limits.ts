/**
 * Hard limits of the permission-script engine. Every node must use the same
 * values: changing one changes which programs are valid, so it is a fork.
 */

/** First byte of every program; a new bytecode format gets a new number. */
export const POLICY_FORMAT_VERSION = 1;

/** Largest policy source the compiler reads, in UTF-8 bytes (bounds compile time). */
export const MAX_SOURCE_BYTES = 65_536;

/** Largest program, in bytes, version byte included. */
export const MAX_PROGRAM_BYTES = 4_096;

/** Most rules in one program. */
export const MAX_RULES = 64;

/** Step (fuel) budget of one evaluation; each opcode has a cost (see OPCODE_COSTS). */
export const MAX_STEPS = 1_000;

/** Deepest value stack an expression may need. */
export const MAX_STACK_DEPTH = 32;

/** Deepest expression tree (a literal or name is depth 1). Also bounds nested parentheses. */
export const MAX_NESTING_DEPTH = 64;

/** Longest string literal or string read from the context (purpose), in UTF-8 bytes. */
export const MAX_STRING_BYTES = 256;

/** Most elements in a `[...]` list. */
export const MAX_LIST_LENGTH = 64;

/** Integers are exact: every value and every intermediate result lies in [-MAX_INTEGER, MAX_INTEGER]. */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
