#!/usr/bin/env python3
"""Fails unless every test CTest knows in the build folder argv[1] has a
TIMEOUT property of at most 600 seconds (a hang must fail in minutes, not at
CI's limit)."""
import json
import subprocess
import sys

listing = subprocess.run(["ctest", "--test-dir", sys.argv[1], "--show-only=json-v1"],
                         capture_output=True, text=True, check=True).stdout
tests = json.loads(listing)["tests"]
bad = []
for test in tests:
    timeouts = [p["value"] for p in test.get("properties", []) if p["name"] == "TIMEOUT"]
    if not timeouts or not 0 < float(timeouts[0]) <= 600:
        bad.append(f"{test['name']}: TIMEOUT {timeouts[0] if timeouts else 'not set'}")
if len(tests) < 100:
    bad.append(f"only {len(tests)} tests listed: is the build complete?")
for line in bad:
    print(line)
print(f"{len(tests)} tests, {len(bad)} without a proper timeout")
sys.exit(1 if bad else 0)
