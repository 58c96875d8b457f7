#!/usr/bin/env python3
"""Interop check: Vow's webhook signatures verified by the `standardwebhooks` package.

Starts the built `vow serve` on a temporary data directory, registers endpoints that
point at a small HTTP receiver in this process, causes events, and has every delivery
verified with `standardwebhooks.Webhook(secret).verify(body, headers)`, the reference
library's own code. Three phases:

1. before any rotation: each recipient's registered secret verifies;
2. during a rotation's overlap: a receiver holding only the old secret and one holding
   only the new secret both verify every delivery (two signatures in the header);
3. after a rotation with no overlap: only the newest secret verifies, the older ones
   are refused.

Fails (exit 1) if any delivery does not verify as expected, or fewer arrive than the
events caused. Bounded: about 10 s normally, 60 s at most.

Usage: standardwebhooks_check.py [--vow target/debug/vow]
"""

import argparse
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "crates/vow/tests/it/policy.yaml"
DEADLINE = time.monotonic() + 60
TENANT = "interop"


class Check:
    """What the receiver expects now: per recipient, the secrets that must verify
    every delivery and those that must not."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accept = {}  # recipient -> [secret]
        self.refuse = {}  # recipient -> [secret]
        self.arrived = queue.Queue()
        self.failures = []
        self.deliveries = 0
        self.verified = 0

    def judge(self, recipient, body, headers):
        signed = {k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        problems = []
        with self.lock:
            accept = list(self.accept.get(recipient, []))
            refuse = list(self.refuse.get(recipient, []))
        if not accept:
            problems.append("no secret is expected to verify")
        for i, secret in enumerate(accept):
            try:
                Webhook(secret).verify(body, signed)
            except WebhookVerificationError as e:
                problems.append(f"secret #{i} should verify and did not: {e}")
        for i, secret in enumerate(refuse):
            try:
                Webhook(secret).verify(body, signed)
                problems.append(f"retired secret #{i} still verifies")
            except WebhookVerificationError:
                pass
        event = json.loads(body)["type"] if not problems else "?"
        with self.lock:
            self.deliveries += 1
            self.verified += not problems
            for p in problems:
                self.failures.append(f"{recipient} {signed['webhook-id']}: {p}")
        self.arrived.put((recipient, event, len(signed["webhook-signature"].split(" ")), not problems))
        return not problems


def receiver(check):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            ok = check.judge(self.path.strip("/"), body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(204 if ok else 400)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, key, path, body=None, content_type="application/json", expect=(200, 201)):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("authorization", f"Bearer {key}")
        if data is not None:
            req.add_header("content-type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                status, text = res.status, res.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if status not in expect:
            raise SystemExit(f"{method} {path}: {status} {text[:300]!r}")
        return json.loads(text) if text else None


def wait_for(check, n, phase):
    """Wait for `n` deliveries; returns them."""
    got = []
    while len(got) < n:
        left = DEADLINE - time.monotonic()
        if left <= 0:
            raise SystemExit(f"{phase}: {len(got)} of {n} deliveries arrived within the time limit: {got}")
        try:
            got.append(check.arrived.get(timeout=min(left, 1)))
        except queue.Empty:
            pass
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vow", default=str(ROOT / "target/debug/vow"))
    args = ap.parse_args()

    check = Check()
    rx = receiver(check)
    hooks = f"http://127.0.0.1:{rx.server_address[1]}"
    port = free_port()
    data = tempfile.mkdtemp(prefix="vow-interop-")
    env = dict(os.environ, VOW_WEBHOOKS_ALLOW_LOOPBACK="true", VOW_WEBHOOKS_POLL_INTERVAL="1")
    server = subprocess.Popen(
        [args.vow, "serve", "--data", data, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    # A server that hangs is stopped at the deadline (which also ends a blocked read of
    # its output), and a SIGTERM (`timeout`) still runs the clean-up below.
    watchdog = threading.Timer(DEADLINE - time.monotonic() + 5, server.kill)
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        admin = None
        for line in server.stdout:
            if "API key" in line:
                admin = line.strip().rsplit(" ", 1)[-1]
            if "listening" in line:
                break
        if not admin:
            raise SystemExit("vow serve did not print a bootstrap key")
        api = Api(f"http://127.0.0.1:{port}")

        api.call("POST", admin, "/v1/tenants", {"id": TENANT, "name": "Interop Check", "role": "controller"})
        api.call("PUT", admin, f"/v1/tenants/{TENANT}/policy", POLICY.read_bytes(), "application/yaml")
        secrets = {}
        for r in ("lab-partner", "administrators"):
            e = api.call("PUT", admin, f"/v1/tenants/{TENANT}/recipients/{r}/endpoint", {"url": f"{hooks}/{r}"})
            secrets[r] = [e["secret"]]
            check.accept[r] = [e["secret"]]

        # Phase 1: one key.created, three disclosures, a correction, a withdrawal.
        op = api.call("POST", admin, f"/v1/tenants/{TENANT}/keys", {"role": "operator"})["key"]
        people = []
        for i, name in enumerate(["Ada Quill", "Bob Marsh", "Cy Young"]):
            s = api.call("POST", op, f"/v1/tenants/{TENANT}/subjects", {
                "identifiers": {"email": f"p{i}@example.org"},
                "birth_date": "1990-01-31",
                "fields": [{"category": "user.name", "value": name, "purposes": ["research"], "source": "signup-form"}],
                "consents": [{"purpose": "research", "kind": "express", "evidence": {"channel": "web"}}],
            })
            people.append(s["id"])
        api.call("POST", op, f"/v1/tenants/{TENANT}/disclosures", {
            "recipient": "lab-partner", "purpose": "research", "categories": ["user.name"],
            "subjects": people, "delivery": "webhook",
        })

        def correct(subject, name):
            api.call("PATCH", op, f"/v1/tenants/{TENANT}/subjects/{subject}",
                     {"fields": [{"category": "user.name", "value": name}]})

        correct(people[0], "Ada Quill-Marsh")
        api.call("POST", op, f"/v1/tenants/{TENANT}/subjects/{people[1]}/consents",
                 {"purpose": "research", "action": "withdraw"})
        phases = [("before rotation", wait_for(check, 6, "before rotation"))]

        # Phase 2: rotated with the default overlap; both secrets must verify alone.
        r = api.call("POST", op, f"/v1/tenants/{TENANT}/recipients/lab-partner/endpoint/rotate", {})
        if not r.get("previous_valid_until"):
            raise SystemExit(f"a rotation with the default overlap has no window: {r}")
        secrets["lab-partner"].append(r["secret"])
        with check.lock:
            check.accept["lab-partner"] = list(secrets["lab-partner"])
        correct(people[2], "Cy Young-Quill")
        correct(people[0], "Ada Marsh")
        api.call("PUT", admin, f"/v1/tenants/{TENANT}/policy", POLICY.read_bytes(), "application/yaml")
        api.call("POST", admin, f"/v1/tenants/{TENANT}/keys", {"role": "auditor"})
        overlap = wait_for(check, 4, "during the overlap")
        if any(n != 2 for (rcpt, _, n, _) in overlap if rcpt == "lab-partner"):
            check.failures.append(f"during the overlap every delivery carries two signatures: {overlap}")
        phases.append(("during the overlap", overlap))

        # Phase 3: rotated again with no overlap; only the newest verifies.
        r = api.call("POST", op, f"/v1/tenants/{TENANT}/recipients/lab-partner/endpoint/rotate", {"overlap_secs": 0})
        with check.lock:
            check.accept["lab-partner"] = [r["secret"]]
            check.refuse["lab-partner"] = list(secrets["lab-partner"])
        correct(people[2], "Cy Young")
        correct(people[0], "Ada Quill")
        phases.append(("after the overlap", wait_for(check, 2, "after the overlap")))

        time.sleep(1.5)  # anything unexpected still on its way
        for name, got in phases:
            print(f"{name}: {len(got)} deliveries: {', '.join(f'{r}/{e}' for (r, e, _, _) in got)}")
        verified = check.verified
        if check.failures or check.deliveries != 12:
            for f in check.failures:
                print(f"FAILED {f}", file=sys.stderr)
            print(f"standardwebhooks interop: {verified} of {check.deliveries} deliveries verified "
                  f"as expected (12 expected)", file=sys.stderr)
            return 1
        print(f"standardwebhooks interop: {check.deliveries} of 12 deliveries verified as expected "
              f"(before, during and after a secret rotation)")
        return 0
    finally:
        watchdog.cancel()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        rx.shutdown()
        subprocess.run(["rm", "-rf", data], check=False)


if __name__ == "__main__":
    sys.exit(main())
