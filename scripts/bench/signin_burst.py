#!/usr/bin/env python3
"""Sends N sign-ins at once (a barrier releases them together) and prints how
long they took and the statuses: `signin_burst.py URL EMAIL PASSWORD N`."""
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

url, email, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
statuses = [None] * n
barrier = threading.Barrier(n)


def sign_in(i):
    body = json.dumps({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        url + "/auth/login", data=body, method="POST",
        headers={"content-type": "application/json", "origin": url})
    barrier.wait()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            statuses[i] = response.status
    except urllib.error.HTTPError as e:
        statuses[i] = e.code
    except OSError as e:
        statuses[i] = type(e).__name__


threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(n)]
start = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{n} sign-ins in {time.time() - start:.2f} s: {dict(Counter(statuses))}")
