// A name the user gave (a file's, most often) where a newline or another control
// character must not take effect: in a message, or in a comment of a generated file.

import { CONTROL_CHARACTER } from "./names.ts";

/** In a message: as it is, unless it holds a control character (it would split the message, or forge a line of a CI log): then JSON-quoted. */
export function displayName(text: string): string {
  return CONTROL_CHARACTER.test(text) ? JSON.stringify(text) : text;
}

/**
 * In a '#' comment, in any of the languages we write (make, HCL, YAML, TOML, bash):
 * printable ASCII as it is; anything else as a JSON string in ASCII, so that no newline
 * or control character can end the comment and start a line of code.
 */
export function commentText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
