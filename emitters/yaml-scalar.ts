// A string as a YAML scalar, for the workflow the github emitter writes without a YAML
// library: plain when YAML 1.2 reads the plain text back as that same string, so that
// `${{ github.actor }}` and `.github/workflows/x.yml` stay as written; otherwise JSON's
// double-quoted form, which YAML 1.2 reads as the same string.

/** Words of characters that mean nothing to YAML, one space apart, not starting with an indicator (YAML 1.2, ns-plain). */
const PLAIN_WORDS = /^[A-Za-z_./$][\w./@+${}*:-]*(?: [\w./@+${}*:-]+)*$/;

/** Plain text YAML reads as something else: a word YAML 1.1 or 1.2 reads as a boolean, null or number, or a mapping (": " or a final ':'). */
const NOT_A_STRING = /^(?:true|false|null|yes|no|on|off|y|n|\.inf|\.nan)$|:(?: |$)/i;

export function yamlScalar(text: string): string {
  return PLAIN_WORDS.test(text) && !NOT_A_STRING.test(text) ? text : JSON.stringify(text);
}
