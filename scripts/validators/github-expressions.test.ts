// The readback's GitHub expressions are GitHub's (@actions/expressions, with the runner's
// status functions and template reading), and a workflow GitHub's own parser
// (@actions/workflow-parser) rejects fails the readback.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { evaluate, evaluateTemplate, templateExpression, truthy, type Context } from "./github-expressions.ts";
import { githubView, githubWorkflowErrors, readGithubWorkflow } from "./readback-github.ts";

const context: Context = {
  github: { event_name: "push", sha: "abc" },
  matrix: { id: "app", image: "r.io/app:1", test: "true", platforms: "linux/amd64,linux/arm64", "build-args": "BASE={0}\nBRACES={{x}}" },
  env: { BASE_CONTENT: "r.io/base:inputs-1" },
  needs: { resolve: { result: "success", outputs: { publish: "true", present: '["app","base"]' } } },
};

describe("the adapter answers as GitHub does", () => {
  test("the expressions our workflows write", () => {
    expect(evaluate("needs.resolve.outputs.publish == 'true'", context)).toBe(true);
    // GitHub compares strings ignoring case.
    expect(evaluate("needs.resolve.outputs.publish == 'TRUE'", context)).toBe(true);
    expect(evaluate("contains(fromJSON(needs.resolve.outputs.present), matrix.id)", context)).toBe(true);
    expect(evaluate("!(matrix.test != 'true') && matrix.platforms || ''", context)).toBe("linux/amd64,linux/arm64");
    expect(evaluate("${{ !(matrix.test != 'true') && matrix.cache-to || '' }}", context)).toBe("");
    // format: {0} is the argument, a doubled brace one brace.
    expect(evaluate("format(matrix.build-args, env.BASE_CONTENT)", context)).toBe("BASE=r.io/base:inputs-1\nBRACES={x}");
    // The status functions are the runner's: a cancelled run is not success().
    expect(evaluate("!cancelled() && needs.resolve.result == 'success'", context)).toBe(true);
    expect(evaluate("!cancelled() && needs.resolve.result == 'success'", context, { cancelled: true })).toBe(false);
    expect(evaluate("always()", context, { failed: true })).toBe(true);
    expect(evaluate("matrix.missing", context)).toBeNull();
    expect([truthy(""), truthy("false"), truthy(0), truthy(null), truthy([])]).toEqual([false, true, false, false, true]);
  });

  test("a string of the workflow file: one expression alone keeps its type, anything around it makes a string (format)", () => {
    expect(evaluateTemplate("${{ fromJSON('600') }}", context)).toBe(600);
    expect(evaluateTemplate("tags-${{ matrix.image }}-${{ github.sha }}", context)).toBe("tags-r.io/app:1-abc");
    expect(templateExpression("a{b}'c ${{ matrix.id }}")).toBe("format('a{{b}}''c {0}', matrix.id)");
    expect(evaluateTemplate("no expression ${ here }", context)).toBe("no expression ${ here }");
  });

  test("where the old evaluator's answer differed from GitHub's", () => {
    // A block scalar (`tags: |`) of one expression ends in a newline: GitHub's value keeps it (format('{0}\n', ...));
    // the old evaluator trimmed the text and gave the image alone.
    expect(evaluateTemplate("${{ matrix.image }}\n", context)).toBe("r.io/app:1\n");
    // An expression ends at the first }} outside a string literal; the old one ended at the first }}.
    expect(evaluateTemplate("x-${{ 'a}}b' }}-y", context)).toBe("x-a}}b-y");
    // An object put into a string is 'Object' (format's coerceString); the old evaluator wrote its JSON.
    expect(evaluateTemplate("needs: ${{ needs.resolve }}", context)).toBe("needs: Object");
    // Every '' in a literal is one quote, as the runner reads it (the package's own lexer unescapes only the first).
    expect(evaluate("'a''b''c'", context)).toBe("a'b'c");
    expect(evaluateTemplate("user='$USER' ${{ '${{' }} github.token }}", context)).toBe("user='$USER' ${{ github.token }}");
    // An unclosed ${{ is GitHub's error.
    expect(() => evaluateTemplate("${{ matrix.id", context)).toThrow(/not closed/);
  });
});

describe("GitHub's workflow parser reads every workflow the readback reads", () => {
  const text = readFileSync(join(import.meta.dir, "../../fixtures/default/expected/github__.github__workflows__build-images.yml"), "utf8");

  test("an emitted workflow is accepted", () => {
    expect(githubWorkflowErrors(text)).toEqual([]);
    expect(readGithubWorkflow(text).jobs.resolve).toBeDefined();
  });

  test("an unknown key under a job, or an unclosed ${{, fails the readback", () => {
    const unknownKey = text.replace("\n    runs-on: ubuntu-latest\n", "\n    runs-on: ubuntu-latest\n    bogus-key: true\n");
    const unclosed = text.replace("IMAGE: ${{ matrix.image }}", "IMAGE: ${{ matrix.image");
    expect(unknownKey).not.toBe(text);
    expect(unclosed).not.toBe(text);
    expect(githubWorkflowErrors(unknownKey)).toEqual([expect.stringContaining("Unexpected value 'bogus-key'")]);
    expect(githubWorkflowErrors(unclosed)).toEqual([expect.stringContaining("The expression is not closed")]);
    for (const planted of [unknownKey, unclosed]) {
      expect(() => readGithubWorkflow(planted)).toThrow(/GitHub's workflow parser rejects/);
      // The readback refuses a workflow not read by GitHub's parser (its YAML merely parsed).
      expect(() => githubView(parseYaml(planted))).toThrow(/read the workflow file with readGithubWorkflow/);
    }
  });

  test("the conversion's own checks count too (a job needing itself)", () => {
    const cycle = text.replace("\n  stage1:\n", "\n  stage1:\n    needs: [stage1]\n");
    expect(cycle).not.toBe(text);
    expect(githubWorkflowErrors(cycle).length).toBeGreaterThan(0);
  });
});
