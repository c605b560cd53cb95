"""Loads Cloud Build configs with Google's own loader from the gcloud SDK.

Usage: python3 cloudbuild_loader.py SDK_ROOT FILE...; prints one JSON line per
file: {"path": ..., "ok": true} or {"path": ..., "ok": false, "error": ...}.
The loader checks field names at every depth, types, enums and substitutions,
with no account and no network.
"""
import json
import os
import sys

sdk = sys.argv[1]
sys.path[:0] = [os.path.join(sdk, "lib"), os.path.join(sdk, "lib", "third_party")]
from googlecloudsdk.api_lib.cloudbuild import cloudbuild_util, config  # noqa: E402

messages = cloudbuild_util.GetMessagesModule()
for path in sys.argv[2:]:
    try:
        config.LoadCloudbuildConfigFromPath(path, messages)
        print(json.dumps({"path": path, "ok": True}))
    except Exception as error:  # the loader raises several types; each is a verdict on the file
        print(json.dumps({"path": path, "ok": False, "error": f"{type(error).__name__}: {error}"}))
