"""Loads Cloud Build configs with Google's own loader from the gcloud SDK.

Usage: python3 cloudbuild_loader.py SDK_ROOT FILE...; prints one JSON line per
file: {"path": ..., "ok": true} or {"path": ..., "ok": false, "error": ...}.
The loader checks field names at every depth, types, enums and substitutions,
with no account and no network. A file named trigger-*.json is a build trigger,
loaded as `gcloud builds triggers import --source=FILE` loads it.
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
        if os.path.basename(path).startswith("trigger-"):
            cloudbuild_util.LoadMessagesFromPath(path, messages.BuildTrigger, "BuildTrigger", skip_camel_case=["substitutions"])
        else:
            config.LoadCloudbuildConfigFromPath(path, messages)
        print(json.dumps({"path": path, "ok": True}))
    except Exception as error:  # the loader raises several types; each is a verdict on the file
        print(json.dumps({"path": path, "ok": False, "error": f"{type(error).__name__}: {error}"}))
