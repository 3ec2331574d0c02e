"""Pages through okwatch's /api/v1/logs with Okta's official Python SDK (okta 3.x).

Usage: okta_sdk_logs.py ORG_URL TOKEN PARAMS_JSON
Prints one JSON object: the uuids the SDK returned in order and the number of pages, or the
error the SDK reported.

This is how SDK users page: `list_log_events` returns (events, response, error), and the next
page's `after` is read from the response's `Link: <...>; rel="next"` header.
"""
import asyncio
import json
import os
import sys
from urllib.parse import parse_qs, urlparse

# The SDK refuses http:// org URLs unless told it is being tested (okwatch listens on loopback).
os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"

from okta.client import Client as OktaClient  # noqa: E402


def next_after(headers):
    for name, value in (headers or {}).items():
        if name.lower() != "link":
            continue
        for part in value.split(","):
            if 'rel="next"' in part:
                url = part.split(";")[0].strip().strip("<>")
                return parse_qs(urlparse(url).query).get("after", [None])[0]
    return None


async def main() -> None:
    org_url, token, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = OktaClient({"orgUrl": org_url, "token": token})
    uuids, pages = [], 0
    while True:
        events, response, error = await client.list_log_events(**params)
        if error is not None:
            print(json.dumps({"error": str(error)}))
            return
        pages += 1
        uuids.extend(e.uuid for e in events)
        after = next_after(response.headers)
        if after is None or not events:
            break
        params["after"] = after
    print(json.dumps({"uuids": uuids, "pages": pages}))


asyncio.run(main())
