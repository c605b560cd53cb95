// Attributes that name and attributes that build: an axis's `name_only` attributes are
// read by every template and never become build args; each image gets its own value's
// attributes only; and a digest moves only with what reaches the build.

import { describe, expect, test } from "bun:test";
import Ajv from "ajv";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { AXIS_SECTION, matrixSchema } from "./matrix-schema.ts";

// TensorFlow's dockerfiles, in short: each OS value has its own version arg, and a NAME
// that only names (tags, repository, labels, paths).
const OS = `repository = "r.io/tf"
[axes.os]
name_only = ["NAME"]
ubuntu = { NAME = "ubuntu", UBUNTU_VERSION = "22.04" }
centos = { CENTOS_VERSION = "7", NAME = "centos" }
[axes.py]
py311 = { PYTHON_VERSION = "3.11" }
`;

const byTag = async (toml: string) => Object.fromEntries((await planText(toml)).graph.images.map((image) => [image.tag, image]));
const argsOf = (image: { readonly args: readonly { readonly name: string; readonly value: string }[] }) => image.args.map((arg) => `${arg.name}=${arg.value}`);

describe("name_only: attributes every template reads and no build gets", () => {
  test("the default args leave them out, and give each image its own value's attributes only", async () => {
    const images = await byTag(`${OS}[images.tf]\nmatrix = ["os", "py"]\ntag = "{os.NAME}-{py.PYTHON_VERSION}"\n`);
    expect(Object.keys(images)).toEqual(["ubuntu-3.11", "centos-3.11"]);
    expect(argsOf(images["ubuntu-3.11"]!)).toEqual(["UBUNTU_VERSION=22.04", "PYTHON_VERSION=3.11"]);
    expect(argsOf(images["centos-3.11"]!)).toEqual(["CENTOS_VERSION=7", "PYTHON_VERSION=3.11"]);
  });

  test("an axis named in `args`, in the family's or a when rule's, leaves them out too", async () => {
    const images = await byTag(`${OS}[images.tf]\nmatrix = ["os", "py"]\ntag = "{os}-{py}"\nargs = ["py", "os"]\n[[images.tf.when]]\nmatch = { os = "centos" }\nargs = [{ EXTRA = "1" }, "os"]\n`);
    expect(argsOf(images["ubuntu-py311"]!)).toEqual(["PYTHON_VERSION=3.11", "UBUNTU_VERSION=22.04"]);
    expect(argsOf(images["centos-py311"]!)).toEqual(["PYTHON_VERSION=3.11", "CENTOS_VERSION=7", "EXTRA=1"]);
  });

  test("every template still reads them: tag, aliases, repository, labels, dockerfile, context, target, test, an arg of the family's", async () => {
    const family = `[images.tf]
matrix = ["os"]
repository = "{repository}/{os.NAME}"
tag = "{os.NAME}"
aliases = ["latest-{os.NAME}"]
labels = { "x.os" = "{os.NAME}" }
dockerfile = "dockerfiles/{os.NAME}.Dockerfile"
context = "ctx/{os.NAME}"
target = "{os.NAME}-stage"
test = "cat /etc/{os.NAME}-release"
args = ["os", { DISTRO = "{os.NAME}" }]
`;
    const image = (await byTag(`${OS}${family}`))["centos"]!;
    expect(image).toMatchObject({
      repository: "r.io/tf/centos",
      aliases: ["latest-centos"],
      labels: [{ name: "x.os", value: "centos" }],
      dockerfile: "dockerfiles/centos.Dockerfile",
      context: "ctx/centos",
      target: "centos-stage",
      test: "cat /etc/centos-release",
    });
    // The family's own arg is how a build is given a name-only attribute, on purpose.
    expect(argsOf(image)).toEqual(["CENTOS_VERSION=7", "DISTRO=centos"]);
  });

  test("`args` naming attributes one by one works as it did; a value without the attribute is reported as before", async () => {
    const images = await byTag(`${OS}[images.tf]\nmatrix = ["os"]\ntag = "{os}"\ncombinations = [["ubuntu"]]\nargs = ["os.UBUNTU_VERSION"]\n`);
    expect(argsOf(images["ubuntu"]!)).toEqual(["UBUNTU_VERSION=22.04"]);
    const found = await problemsOf(`${OS}[images.tf]\nmatrix = ["os"]\ntag = "{os}"\nargs = ["os.UBUNTU_VERSION"]\n`);
    expect(found.map((d) => [d.code, d.line, d.message])).toEqual([["UNKNOWN_REFERENCE", 11, 'axis "os" value "centos" has no attribute UBUNTU_VERSION']]);
  });

  test("an image whose args do not change keeps its digest: declaring a name-only attribute moves no inputs, an attribute that builds does", async () => {
    const matrix = (ubuntu: string, centos: string, declared: boolean) => `repository = "r.io/tf"
[axes.os]
${declared ? 'name_only = ["NAME"]\n' : ""}ubuntu = { UBUNTU_VERSION = "22.04"${ubuntu} }
centos = { CENTOS_VERSION = "7"${centos} }
[images.base]
matrix = ["os"]
tag = "base-{os}"
[images.tf]
matrix = ["os"]
tag = "tf-{os}"
aliases = ["{os}-latest"]
from = "base"
`;
    const inputs = async (toml: string) => (await planText(toml)).graph.images.map((image) => [image.tag, image.inputs]);
    const before = await inputs(matrix("", "", false));
    expect(await inputs(matrix(', NAME = "ubuntu"', ', NAME = "centos"', true))).toEqual(before);
    // The same attribute, not declared: a build arg, so the base and (through it) the child move.
    const building = await inputs(matrix(', NAME = "ubuntu"', ', NAME = "centos"', false));
    expect(building.map(([, digest], i) => digest === before[i]![1])).toEqual([false, false, false, false]);
  });
});

describe("name_only: mistakes at their line, with a hint", () => {
  const axis = (line: string) => `repository = "r.io/tf"\n[axes.os]\n${line}\nubuntu = { NAME = "ubuntu", UBUNTU_VERSION = "22.04" }\n[images.tf]\nmatrix = ["os"]\ntag = "{os}"\n`;
  const reported = async (toml: string) => (await problemsOf(toml)).map((d) => [d.code, d.line, d.column, d.message, d.hint]);

  test("an attribute no value has, one listed twice, a wrong type, a value called name_only, a misspelled name_only", async () => {
    expect(await reported(axis('name_only = ["NAM", "NAME", "NAME", 3]'))).toEqual([
      ["UNKNOWN_REFERENCE", 3, 14, "no value of this axis has an attribute NAM", 'did you mean "NAME"?'],
      ["DUPLICATE", 3, 29, "NAME is listed twice", undefined],
      ["WRONG_TYPE", 3, 37, "expected a string, found the number 3", 'quote it: "3"'],
    ]);
    expect(await reported(axis('name_only = "NAME"'))).toEqual([["WRONG_TYPE", 3, 1, 'expected an array of attribute names, found the string "NAME"', 'for example: name_only = ["NAME"]']]);
    expect(await reported(axis("name_only = {}"))).toEqual([
      ["INVALID_NAME", 3, 1, '"name_only" is reserved in an axis: it lists the attributes that only name images, so no value can be called name_only', 'rename the value, or list attributes: name_only = ["NAME"]'],
    ]);
    const misspelled = await reported(axis('nameonly = ["NAME"]'));
    expect(misspelled.map((d) => d.slice(0, 4))).toEqual([["WRONG_TYPE", 3, 1, "expected a table, found an array"]]);
    expect(misspelled[0]![4]).toContain('the one list an axis may hold is name_only = ["NAME", ...]');
  });

  test("an attribute declared name-only and named in `args` as it is: refused, with the way to pass it on purpose", async () => {
    const family = `${OS}[images.tf]\nmatrix = ["os"]\ntag = "{os}"\nargs = [\n  "os.UBUNTU_VERSION",\n  "os.NAME",\n]\n[[images.tf.when]]\nmatch = { os = "centos" }\nargs = ["os.NAME"]\n`;
    const hint = 'to pass it to this family\'s builds anyway, write { NAME = "{os.NAME}" }; or take it out of name_only';
    expect(await reported(family)).toEqual([
      ["INVALID_VALUE", 13, 3, "os.NAME is name-only ([axes.os] name_only): it names images and is never a build arg", hint],
      ["INVALID_VALUE", 17, 9, "os.NAME is name-only ([axes.os] name_only): it names images and is never a build arg", hint],
    ]);
  });

  test("the JSON Schema knows name_only: a list of attribute names, whose wrong type ajv and the reader both refuse", async () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(matrixSchema());
    expect(validate(Bun.TOML.parse(`${OS}[images.tf]\nmatrix = ["os"]\ntag = "{os}"\n`))).toBe(true);
    for (const key of Object.keys(AXIS_SECTION)) {
      const wrong = axis(`${key} = 42`);
      expect(validate(Bun.TOML.parse(wrong))).toBe(false);
      expect((await problemsOf(wrong)).map((d) => d.keyPath?.join("."))).toEqual([`axes.os.${key}`]);
    }
  });
});
