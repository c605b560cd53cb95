// make with `[sign]`, a key pair: every image is pushed by `buildx build --push`, whose
// metadata file gives the digest it pushed, and that digest (never a tag another push
// could have moved since) is signed: `cosign sign --recursive`, so a multi-platform
// index and each of its platform manifests carry the signature. `resolve` verifies what
// the registry has before make reuses it (cli/verify-signature.ts).

import type { BuildGraph, ImageNode } from "../core/graph.ts";
import { INPUTS_ANNOTATION, REVISION_ANNOTATION } from "../core/changes/inputs.ts";
import { refuseSigning } from "./signing.ts";
import { makeValue, shellWord } from "./quoting.ts";

/** Refuses keyless [sign]: it needs a CI's OIDC identity, which make has not. */
export function checkSigning(graph: BuildGraph): void {
  if (graph.sign !== undefined && !("key" in graph.sign)) refuseSigning(graph, "make", "keyless signing needs a CI's OIDC identity, which make has not", "give [sign] a key pair (key and public_key) for make");
}

/** The Makefile's signing variables; none without [sign] (checkSigning has refused a keyless one). */
export function signDefinitions(graph: BuildGraph): string[] {
  const sign = graph.sign;
  if (sign === undefined || !("key" in sign)) return [];
  return [
    "# [sign]: each pushed image is signed by its digest with cosign (COSIGN_PASSWORD holds the key's",
    "# password), and `make push` reuses an image the registry has only when its signature verifies.",
    "COSIGN ?= cosign",
    `COSIGN_KEY ?= ${makeValue(shellWord(sign.key))}`,
    "COSIGN_FLAGS ?=",
    "# The commit a signature names (caliban-images explain reads it back): the checkout's HEAD.",
    "SIGN_REVISION ?= $(shell git rev-parse --verify --quiet HEAD 2>/dev/null)",
    // Loopback registries are plain http, as resolve asks them.
    "SIGN_PLAIN_HTTP = $(if $(filter localhost:% localhost/% 127.% [::1]%,$(subst ',,$(1))),--allow-insecure-registry --allow-http-registry)",
    // COSIGN_SIGN signs a reference ($(1)) as the image of an inputs digest ($(2), its hex). cosign 3
    // takes --tlog-upload=false only without its TUF signing config, which cosign 2 has no flag for.
    `COSIGN_SIGN = $(RETRY) $(COSIGN) sign --yes --recursive --key $(COSIGN_KEY)${sign.transparencyLog ? "" : " $$($(COSIGN) sign --help 2>&1 | grep -q -- --use-signing-config && echo --use-signing-config=false) --tlog-upload=false"} $(if $(2),-a ${INPUTS_ANNOTATION}=$(2)) $(if $(SIGN_REVISION),-a ${REVISION_ANNOTATION}=$(SIGN_REVISION)) $(call SIGN_PLAIN_HTTP,$(1)) $(COSIGN_FLAGS) $(1)`,
    // SIGN signs what buildx pushed to repository $(1), by the digest its metadata file $(2) names.
    `SIGN = digest=$$(sed -n 's/^ *"containerimage.digest": *"\\(sha256:[0-9a-f]*\\)".*/\\1/p' $(2)) && rm -f $(2) && { [ -n "$$digest" ] || { echo "buildx named no digest of $(1): not signed" >&2; exit 1; }; } && $(call COSIGN_SIGN,$(1)@"$$digest",$(3))`,
  ];
}

/** With [sign], what signs a tag make pointed at a reused image (the digest the tag names once pointed); undefined without. */
export function signPointedTag(graph: BuildGraph, image: ImageNode): ((reference: string) => string) | undefined {
  return graph.sign === undefined ? undefined : (reference) => `$(call COSIGN_SIGN,${reference},$(inputs/${image.id}))`;
}

/** The resolve flag that names cosign, with [sign]. */
export function resolveCosignFlag(graph: BuildGraph): string {
  return graph.sign === undefined ? "" : " --cosign '$(COSIGN)'";
}

/** A `buildx build ... --push ...` command that signs what it pushed, with [sign]: `repository` is the image's (a shell word). */
export function signedPush(graph: BuildGraph, image: ImageNode, push: string, repository: string): string {
  if (graph.sign === undefined) return push;
  return `meta=$$(mktemp) && ${push.replace(" --push ", () => ' --push --metadata-file "$$meta" ')} && $(call SIGN,${repository},"$$meta",$(inputs/${image.id}))`;
}
