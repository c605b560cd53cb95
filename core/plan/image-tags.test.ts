// Shared tags (`shared_tags`, core/plan/image-tags.ts), and a `when` rule's runner and
// timeout: what the plan gives each image, and each mistake at its line.

import { describe, expect, test } from "bun:test";
import { planText, problemsOf } from "../../fixtures/test-helpers.ts";
import { imageRunner, imageTimeout, sharedTags } from "../graph.ts";

// Docker's python images as bashbrew publishes 3.14: one Linux image and two Windows ones
// under the shared tag "3.14", the two Windows ones under "3.14-windowsservercore".
const PYTHON = `repository = "docker.io/library/python"
[axes.version]
"3.14" = {}
[axes.linux]
trixie = {}
[axes.windows]
ltsc2025 = {}
ltsc2022 = {}
[images.linux]
matrix = ["version", "linux"]
tag = "{version}-{linux}"
shared_tags = ["{version}"]
platforms = ["linux/amd64", "linux/arm64"]
[images.windows]
matrix = ["version", "windows"]
tag = "{version}-windowsservercore-{windows}"
shared_tags = ["{version}", "{version}-windowsservercore"]
runner = "windows-2022"
[[images.windows.when]]
match = { windows = "ltsc2025" }
platforms = ["windows(10.0.26100)/amd64"]
runner = "windows-2025"
timeout = 240
[[images.windows.when]]
match = { windows = "ltsc2022" }
platforms = ["windows(10.0.20348)/amd64"]
`;

const messages = async (toml: string) => (await problemsOf(toml)).map((d) => `${d.line}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`);

describe("shared tags", () => {
  test("one manifest list over every image naming the tag; Windows releases told apart by their platform", async () => {
    const { graph } = await planText(PYTHON);
    const byTag = Object.fromEntries(graph.images.map((image) => [image.tag, image]));
    expect(byTag["3.14-trixie"]!.sharedTags).toEqual(["3.14"]);
    expect(byTag["3.14-windowsservercore-ltsc2025"]!.sharedTags).toEqual(["3.14", "3.14-windowsservercore"]);
    expect(sharedTags(graph).map((shared) => [shared.reference, shared.images.map((image) => image.tag)])).toEqual([
      ["docker.io/library/python:3.14", ["3.14-trixie", "3.14-windowsservercore-ltsc2025", "3.14-windowsservercore-ltsc2022"]],
      ["docker.io/library/python:3.14-windowsservercore", ["3.14-windowsservercore-ltsc2025", "3.14-windowsservercore-ltsc2022"]],
    ]);
    // buildx is given the platform; the release is the manifest's os.version.
    expect(byTag["3.14-windowsservercore-ltsc2025"]!.platforms).toEqual(["windows/amd64"]);
    expect(byTag["3.14-windowsservercore-ltsc2025"]!.osVersion).toBe("10.0.26100");
    expect(byTag["3.14-trixie"]!.osVersion).toBeUndefined();
  });

  test("images without shared tags keep the graph they had: no sharedTags, osVersion, runner or timeout keys", async () => {
    const { graph } = await planText(PYTHON.replace('shared_tags = ["{version}"]\n', ""));
    const trixie = graph.images.find((image) => image.tag === "3.14-trixie")!;
    expect(Object.keys(trixie)).not.toContain("sharedTags");
    expect(Object.keys(trixie)).not.toContain("osVersion");
    expect(Object.keys(trixie)).not.toContain("runner");
    expect(Object.keys(trixie)).not.toContain("timeout");
  });

  test("overlapping platforms, an image without platforms, a tag both shared and an image's own: refused at their line", async () => {
    const sameRelease = PYTHON.replace("windows(10.0.20348)/amd64", "windows(10.0.26100)/amd64");
    expect(await messages(sameRelease)).toEqual([
      '17: docker.io/library/python:3.14 would hold windows(10.0.26100)/amd64 twice: version=3.14, windows=ltsc2025 of "windows" and version=3.14, windows=ltsc2022 of "windows" both build it, and a manifest list has one image per platform (tell Windows releases apart in the platform, e.g. windows(10.0.26100)/amd64 and windows(10.0.20348)/amd64)',
      expect.stringMatching(/^17: docker.io\/library\/python:3.14-windowsservercore would hold windows\(10.0.26100\)\/amd64 twice/),
    ]);
    const noRelease = PYTHON.replace("windows(10.0.20348)/amd64", "windows/amd64");
    expect((await messages(noRelease))[0]).toStartWith("17: docker.io/library/python:3.14 would hold windows(10.0.26100)/amd64 twice");
    const linuxOverlap = PYTHON.replace('"linux/amd64", "linux/arm64"', '"linux/amd64", "windows/amd64"');
    expect((await messages(linuxOverlap)).some((line) => line.includes("are both platforms of an image of family \"linux\""))).toBe(true);
    const noPlatforms = PYTHON.replace('platforms = ["linux/amd64", "linux/arm64"]\n', "");
    expect(await messages(noPlatforms)).toEqual([
      '12: docker.io/library/python:3.14 is shared by 3 images, but version=3.14, linux=trixie of "linux" names no platforms: a manifest list tells its images apart by platform (give the family (or a `when` rule) its platforms, e.g. platforms = ["linux/amd64", "linux/arm64"])',
    ]);
    const owned = PYTHON.replace('tag = "{version}-{linux}"\nshared_tags = ["{version}"]', 'tag = "{version}"');
    expect((await messages(owned))[0]).toStartWith('16: docker.io/library/python:3.14 is version=3.14, linux=trixie of "linux"\'s own tag, and a shared tag of');
    const ownedLater = PYTHON.replace('shared_tags = ["{version}"]\n', 'aliases = ["{version}-windowsservercore"]\n');
    expect((await messages(ownedLater))[0]).toContain("'s own alias, and a shared tag of");
    const itsOwn = PYTHON.replace('shared_tags = ["{version}"]', 'shared_tags = ["{version}-{linux}"]');
    expect((await messages(itsOwn))[0]).toBe('12: the shared tag "3.14-trixie" of version=3.14, linux=trixie of "linux" is its own tag (a tag is an image\'s own (tag, aliases) or shared by several (shared_tags), not both)');
    expect((await messages(PYTHON.replace('shared_tags = ["{version}"]', 'shared_tags = ["{date}"]')))[0]).toStartWith("12: {date} is known only when the CI builds: only an alias may name it");
    expect((await messages(PYTHON.replace('shared_tags = ["{version}"]', 'shared_tags = ["-x"]')))[0]).toStartWith('12: the shared tag "-x" (for version=3.14, linux=trixie) is not a valid Docker tag');
  });

  test("a platform naming an OS version: only Windows, alone in its list", async () => {
    expect((await messages(PYTHON.replace('"linux/amd64", "linux/arm64"', '"linux(6.1)/amd64"')))[0]).toBe("13: linux(6.1)/amd64 names an OS version, which only a Windows platform has (write linux/amd64)");
    expect((await messages(PYTHON.replace('"windows(10.0.20348)/amd64"', '"windows(10.0.20348)/amd64", "windows(10.0.20348)/arm64"')))[0]).toStartWith("26: windows(10.0.20348)/amd64 names a Windows release: an image of one release is built for that platform alone");
  });
});

describe("a `when` rule's runner and timeout", () => {
  test("the images it matches get them, the others keep the family's", async () => {
    const { graph } = await planText(PYTHON);
    const family = graph.families.find((f) => f.name === "windows")!;
    const byTag = Object.fromEntries(graph.images.map((image) => [image.tag, image]));
    expect(imageRunner(family, byTag["3.14-windowsservercore-ltsc2025"]!)).toEqual(["windows-2025"]);
    expect(imageRunner(family, byTag["3.14-windowsservercore-ltsc2022"]!)).toEqual(["windows-2022"]);
    expect(imageTimeout(family, byTag["3.14-windowsservercore-ltsc2025"]!)).toBe(240);
    expect(imageTimeout(family, byTag["3.14-windowsservercore-ltsc2022"]!)).toBeNull();
  });

  test("a Windows image whose rule leaves the runner to a Linux family default is refused at the rule's platforms", async () => {
    const linuxDefault = PYTHON.replace('runner = "windows-2022"\n', 'runner = "ubuntu-24.04"\n');
    expect(await messages(linuxDefault)).toEqual([
      '18: the runner label "ubuntu-24.04" is a Linux or macOS machine\'s, but windows(10.0.20348)/amd64 is built only on Windows (runner = "windows-2022" (GitHub\'s hosted Windows Server 2022, "windows-2025" for 2025), or your self-hosted Windows runners\' labels)',
    ]);
    const templated = PYTHON.replace('runner = "windows-2025"', 'runner = "{windows.RUNNER}"');
    expect((await messages(templated))[0]).toStartWith('22: axis "windows" value "ltsc2025" has no attribute RUNNER');
  });
});

describe("emit --since: a shared tag is made again over all its images", () => {
  test("one affected image of a shared tag brings the others into the subgraph; an unshared image does not", async () => {
    const { affectedSubgraph } = await import("../changes/affected.ts");
    const { graph } = await planText(PYTHON);
    const trixie = graph.images.find((image) => image.tag === "3.14-trixie")!;
    const sub = affectedSubgraph(graph, new Set([trixie.id]));
    expect(sub.images.map((image) => image.tag)).toEqual(["3.14-trixie", "3.14-windowsservercore-ltsc2025", "3.14-windowsservercore-ltsc2022"]);
    const alone = await planText(PYTHON.replace('shared_tags = ["{version}"]\n', ""));
    const only = alone.graph.images.find((image) => image.tag === "3.14-trixie")!;
    expect(affectedSubgraph(alone.graph, new Set([only.id])).images.map((image) => image.tag)).toEqual(["3.14-trixie"]);
  });
});
