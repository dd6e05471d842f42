"""Schemathesis hooks for tests/fuzz/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

One check of our own, `nothing_leaks`: no answer, whoever asks, contains a
secret of anyone -- another person's personal token or password, the
internal api_token, a password hash or a set-password token of someone
else -- and a person's token list names none of anyone else's tokens.
fuzz.py passes the secrets in MTH_FUZZ_SECRETS (JSON).
"""

import json
import os

import schemathesis

SECRETS = json.loads(os.environ.get("MTH_FUZZ_SECRETS", "{}"))


@schemathesis.check
def nothing_leaks(ctx, response, case):
    text = response.text or ""
    own = set(SECRETS.get("own", []))
    for name, secret in SECRETS.get("others", {}).items():
        if secret and secret not in own and secret in text:
            raise AssertionError(f"The answer contains {name}")
    for marker in ("$argon2", "password_hash", "token_hash"):
        if marker in text:
            raise AssertionError(f"The answer contains {marker!r}")
    if case.operation.path == "/auth/tokens" and case.method == "GET" and response.status_code == 200:
        foreign = {t["id"] for t in response.json()} & set(SECRETS.get("others_token_ids", []))
        if foreign:
            raise AssertionError(f"GET /auth/tokens lists tokens that are not the caller's: {sorted(foreign)}")
    return None
