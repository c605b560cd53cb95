// JSON.stringify of a string, without the call for the usual string that needs no
// escape: outputs of 10,000 images quote some 100,000 strings.

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/;

export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}
