import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { yamlScalar } from "./quoting.ts";

describe("the workflow is written without a YAML library, so every user string is checked as YAML reads it", () => {
  const readBack = (text: string) => parseYaml(`key: ${yamlScalar(text)}\nlist:\n  - ${yamlScalar(text)}\n`);
  const tricky = ["", ".5", ".5e3", ".", "..", "._", ".1.2", "true", "No", "~", "null", "1.0", "0x1F", ".inf", "-x", "*alias", "&anchor", "!tag", "a: b", "a:", "a #b", "{x}", "[x]", "'q'", '"q"', "@x", "`x", "%x", "|", ">", "a  b", " lead", "trail ", "tab\there", "line\nbreak", "${{ github.actor }}", "docker/**", "registry.example.com:5000", "é ✓ 𝄞"];

  test("tricky strings read back as themselves", () => {
    for (const text of tricky) expect(readBack(text)).toEqual({ key: text, list: [text] });
  });

  test("any string reads back as itself", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => {
      expect(readBack(text)).toEqual({ key: text, list: [text] });
    }), { numRuns: 2000 });
  });

  test("plain where the yaml package writes plain: what users see is unchanged", () => {
    for (const text of ["Build images", "ubuntu-latest", "${{ github.actor }}", ".github/workflows/build-images.yml", "docker/**", "gcr.io"]) expect(yamlScalar(text)).toBe(text);
  });
});
