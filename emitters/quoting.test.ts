import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { readableShellWord, yamlBlock, yamlScalar } from "./quoting.ts";

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

describe("a script of several lines as a YAML literal block (yamlBlock), read back by a YAML parser", () => {
  const readBack = (text: string) => {
    const block = yamlBlock(text, "    ");
    return block === undefined ? undefined : parseYaml(`script:\n  - |-\n${block.join("\n")}\n`).script[0];
  };

  test("shell text, blank lines, lines of spaces, '#', quotes, '${{', tabs inside a line: as written", () => {
    for (const text of ["set -eu\necho 'a # b' \"$x\"", "a\n\n  b\n\tc", "x\n   \ny", "if true; then\n  echo ${{ x }} --- ...\nfi", "a: b\n- c\n? d", "echo é 東京 🐳\ndone"]) {
      expect(readBack(text)).toBe(text);
    }
  });

  test("what a block cannot hold exactly is left to the quoted form", () => {
    for (const text of ["one line", "ends with a newline\n", " leading space\nx", "\ttab first\nx", "a\r\nb", "a\u0085b\nc", "a\u2028b\nc", "\ufeffa\nb", "bell \u0007\nx", "a\ud800\nb"]) {
      expect(yamlBlock(text, "  ")).toBeUndefined();
    }
  });

  test("any text: a block, where one is given, reads back as the text", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 12 }), { maxLength: 5 }).map((lines) => lines.join("\n")), (text) => {
        const back = readBack(text);
        return back === undefined || back === text;
      }),
      { numRuns: 1000 },
    );
  });
});

describe("readableShellWord", () => {
  test("bash reads each word back as the text: bare where nothing in it is the shell's, quoted otherwise", () => {
    const texts = ["keys/cosign.pub", "caliban-images.inputs=ab12", "r.io/x:inputs-1@sha256:ff", "env://COSIGN_KEY", "a b", "it's", "$HOME", "a*b", "~/k", "#x", "a;b", "`id`", "!x", "a\\b", "", "{a,b}", "x=y z"];
    const words = texts.map(readableShellWord);
    expect(words.slice(0, 4)).toEqual(texts.slice(0, 4));
    const back = Bun.spawnSync(["bash", "-c", `printf '%s\\0' ${words.join(" ")}`]);
    expect(back.stdout.toString().split("\0").slice(0, -1)).toEqual(texts);
  });
});
