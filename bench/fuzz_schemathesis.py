"""Schemathesis against every OpenAPI document (contracts/<api>/openapi.json) and the emulator: counts server
errors (HTTP 5xx) and bodies outside the API's envelope.

Runs Schemathesis's engine (every phase it offers: examples, coverage, fuzzing, and stateful where the document
has links) in positive and negative generation, with a new seed each round, until an API got --requests
generated requests. The emulator runs WITHOUT --allow-private-image-hosts and WITH the hidden --offline-fetch
guard: generated image and index-file URLs never reach anything but refusals. Envelopes: NHN, a JSON object with
header.isSuccessful bool, header.resultCode int, header.resultMessage str; Tagger, {status, data, error}.

    python bench/fuzz_schemathesis.py [--requests 5000] [--apis v1,v2,maker,tagger] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (puts src/ on the import path)
import schemathesis

from fashion_conformance import clients, contracts, embedded

SERVICE_VAR = {"v1": "serviceID", "v2": "serviceName", "maker": "serviceID"}
SERVICE = "stfuzz"  # exists in v1 and v2, so that generated cases also reach past -42000
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
MAX_ROUNDS = 50


def outside_envelope(api: str, body: object) -> bool:
    """Whether a decoded body breaks the API's envelope."""
    if not isinstance(body, dict):
        return True
    if api == "tagger":
        return not {"status", "data", "error"} <= body.keys()
    header = body.get("header")
    return not (isinstance(header, dict) and type(header.get("isSuccessful")) is bool
                and type(header.get("resultCode")) is int and isinstance(header.get("resultMessage"), str))


class Tally:
    """Per-API counts, fed by a Schemathesis check that sees every response."""

    def __init__(self) -> None:
        self.api = ""
        self.counts: dict[str, Counter] = {}
        self.samples: dict[str, list[str]] = {}

    def see(self, response, case) -> None:
        c = self.counts.setdefault(self.api, Counter())
        c["requests"] += 1
        c[f"status {response.status_code}"] += 1
        problem = None
        if response.status_code >= 500:
            c["5xx"] += 1
            problem = "5xx"
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if outside_envelope(self.api, body):
            c["outside_envelope"] += 1
            problem = problem or "envelope"
        else:
            c[f"code {body['header']['resultCode'] if self.api != 'tagger' else (body['error'] or {}).get('code', 0)}"] += 1
        if problem and len(self.samples.setdefault(self.api, [])) < 5:
            self.samples[self.api].append(f"{problem}: {case.method} {case.formatted_path} -> "
                                          f"{response.status_code} {response.content[:200]!r}")


TALLY = Tally()
AUTH: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
CHOICE = random.Random(0)


@schemathesis.check
def envelope_tally(ctx, response, case):
    """Counts the response; never fails (the figures are the result)."""
    TALLY.see(response, case)


@schemathesis.hook
def map_case(context, case):
    """Authenticate (appKey, secret key, API key), and aim half of the cases at the existing service (never a
    DELETE: it would be gone for the rest of the run)."""
    path, headers = AUTH[TALLY.api]
    if case.path_parameters is not None:
        case.path_parameters.update(path)
        var = SERVICE_VAR.get(TALLY.api)
        if var in case.path_parameters and case.method.upper() != "DELETE" and CHOICE.random() < 0.5:
            case.path_parameters[var] = SERVICE
    case.headers = {**(case.headers or {}), **headers}
    return case


def auth(api: str, keys: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    path = {"appKey": keys["appkey"]} if api != "tagger" else {}
    headers = {"v2": {"Authorization": keys["secret_key"]}, "tagger": {"x-api-key": keys["api_key"]}}.get(api, {})
    return path, headers


def run_api(api: str, emu: embedded.EmbeddedEmulator, target: int, max_examples: int) -> dict:
    TALLY.api = api
    AUTH[api] = auth(api, emu.keys)
    started = time.monotonic()
    rounds = 0
    while TALLY.counts.get(api, Counter())["requests"] < target and rounds < MAX_ROUNDS:
        schema = schemathesis.openapi.from_path(contracts.openapi_path(api))
        schema.config.update(base_url=emu.base_url, request_timeout=30, continue_on_failure=True)
        schema.config.generation.update(modes=MODES, max_examples=max_examples)
        schema.config.seed = 1000 * rounds + 1
        for _event in schemathesis.engine.from_schema(schema).execute():
            pass
        rounds += 1
        print(f"  {api} round {rounds}: {TALLY.counts[api]['requests']} requests", flush=True)
    c = TALLY.counts.get(api, Counter())
    return {"api": api, "requests": c["requests"], "5xx": c["5xx"], "outside_envelope": c["outside_envelope"],
            "seconds": round(time.monotonic() - started, 1), "rounds": rounds,
            "statuses": {k[7:]: v for k, v in sorted(c.items()) if k.startswith("status ")},
            "codes": {k[5:]: v for k, v in c.most_common() if k.startswith("code ")},
            "samples": TALLY.samples.get(api, [])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="generated requests per API (at least)")
    parser.add_argument("--max-examples", type=int, default=100, help="fuzzing examples per operation and round")
    parser.add_argument("--apis", default=",".join(contracts.APIS))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    emu = embedded.start(allow_private_image_hosts=False, extra_args=("--offline-fetch",))
    try:
        for api, request in (("v1", {"path": {"serviceID": SERVICE}}), ("v2", {"json": {"serviceName": SERVICE}})):
            client = clients.for_target(api, emu.targets()[api])
            assert client.call("service.create", **request).header["isSuccessful"]
            client.close()
        results = [run_api(api, emu, args.requests, args.max_examples) for api in args.apis.split(",")]
    finally:
        emu.stop()
    print(f"{'api':8s} {'requests':>9s} {'5xx':>5s} {'outside envelope':>17s} {'seconds':>8s}")
    for r in results:
        print(f"{r['api']:8s} {r['requests']:9d} {r['5xx']:5d} {r['outside_envelope']:17d} {r['seconds']:8.1f}")
        for sample in r["samples"]:
            print(f"    {sample}")
    print("RESULT " + json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
