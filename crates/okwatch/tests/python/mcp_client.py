"""Drives okwatch's MCP server with the official Python MCP SDK and prints what it answered.

Usage:
  mcp_client.py stdio OKWATCH_BINARY DATA_DIR SCENARIO_JSON
  mcp_client.py http  URL TOKEN SCENARIO_JSON
  mcp_client.py busy  OKWATCH_BINARY DATA_DIR SAVED_SEARCH_NAME
      (calls while another okwatch holds the store)
  mcp_client.py alerts-stdio OKWATCH_BINARY DATA_DIR
  mcp_client.py alerts-http  URL TOKEN
      (the alert tools: every alert, the first one in full, and two mistakes)
  mcp_client.py usage-stdio OKWATCH_BINARY DATA_DIR APP
  mcp_client.py usage-http  URL TOKEN APP
      (the SaaS tools: one app's usage and money, Okta's, renewals, and two mistakes)

The scenario names the period, filters, person and app to ask about. The answers are printed
as one JSON object; the Rust test compares them with what `okwatch search` says.
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


def text_of(result):
    return "".join(block.text for block in result.content if getattr(block, "text", None))


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    text = text_of(result)
    if result.is_error:
        return {"is_error": True, "text": text}
    return json.loads(text)


async def exercise(session, s):
    await session.initialize()
    out = {}
    tools = (await session.list_tools()).tools
    out["tools"] = sorted(t.name for t in tools)
    out["tools_described"] = all(
        (t.description or "").strip() and t.input_schema.get("type") == "object" for t in tools
    )
    out["required"] = {t.name: sorted(t.input_schema.get("required", [])) for t in tools}

    since = s["since"]
    page1 = await call(session, "search_events", {"filter": s["filter"], "since": since, "limit": 7})
    out["page1"] = page1
    out["page2"] = await call(
        session,
        "search_events",
        {"filter": s["filter"], "since": since, "limit": 7, "cursor": page1["next_cursor"]},
    )
    out["search_bad"] = await call(session, "search_events", {"filter": s["bad_filter"]})
    out["get_event"] = await call(session, "get_event", {"uuid": page1["events"][0]["uuid"]})
    out["get_missing"] = await call(session, "get_event", {"uuid": "no-such-uuid"})
    out["explain_ok"] = await call(session, "explain_filter", {"filter": s["filter"]})
    out["explain_bad"] = await call(session, "explain_filter", {"filter": s["bad_filter"]})
    # Nested 3,000 deep: once enough to overflow the server's stack; the calls after it show
    # that the server is still there.
    deep = "(" * 3000 + 'eventType eq "x"' + ")" * 3000
    out["search_deep"] = await call(session, "search_events", {"filter": deep})
    out["explain_deep"] = await call(session, "explain_filter", {"filter": deep})
    out["user"] = await call(session, "user_activity", {"user": s["user"], "since": since})
    out["failed_by_ip"] = await call(
        session, "failed_sign_ins", {"group_by": "ip", "since": since, "top": 3}
    )
    out["failed_bad_group"] = await call(session, "failed_sign_ins", {"group_by": "planet"})
    out["app"] = await call(session, "app_usage", {"app": s["app"], "since": since})
    out["apps"] = await call(session, "app_usage", {"since": since})
    out["status"] = await call(session, "collection_status", {})
    out["saved_list"] = await call(session, "list_saved_searches", {})
    out["saved_run"] = await call(session, "run_saved_search", {"search": s["saved"], "limit": 7})
    out["reports"] = await call(session, "list_reports", {})
    out["report"] = await call(session, "run_report", {"report": "authentication", "since": since})
    out["report_unknown"] = await call(session, "run_report", {"report": "logins"})

    resources = (await session.list_resources()).resources
    out["resources"] = sorted(str(r.uri) for r in resources)
    guide = await session.read_resource("okwatch://guide/filter-language")
    out["guide_mentions_operators"] = all(op in guide.contents[0].text for op in ["`eq`", "`sw`", "`pr`"])
    types = await session.read_resource("okwatch://store/event-types")
    out["event_types"] = json.loads(types.contents[0].text)

    prompts = (await session.list_prompts()).prompts
    out["prompts"] = sorted(p.name for p in prompts)
    investigate = await session.get_prompt("investigate_user", {"user": s["user"], "days": "14"})
    out["investigate_text"] = investigate.messages[0].content.text
    return out


async def alerts(session):
    await session.initialize()
    out = {"tools": sorted(t.name for t in (await session.list_tools()).tools)}
    out["open_attacks"] = await call(session, "list_alerts", {})
    out["all"] = await call(session, "list_alerts", {"status": "all", "severity": "info", "limit": 100})
    if out["all"].get("alerts"):
        out["first"] = await call(session, "get_alert", {"id": out["all"]["alerts"][0]["id"]})
    out["missing"] = await call(session, "get_alert", {"id": "no-such-alert"})
    out["bad_severity"] = await call(session, "list_alerts", {"severity": "urgent"})
    return out


async def usage(session, app):
    await session.initialize()
    out = {"tools": sorted(t.name for t in (await session.list_tools()).tools)}
    out["app"] = await call(session, "app_usage", {"app": app, "since": "-3d"})
    out["okta"] = await call(session, "app_usage", {"app": "okta"})
    out["renewals"] = await call(session, "renewals", {"within_days": 60})
    out["renewals_soon"] = await call(session, "renewals", {"within_days": 30})
    out["bad_within"] = await call(session, "renewals", {"within_days": 0})
    out["no_app"] = await call(session, "app_usage", {"app": "No Such App"})
    return out


async def over_stdio(binary, data_dir, work):
    params = StdioServerParameters(command=binary, args=["--data-dir", data_dir, "mcp"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            return await work(session)


async def over_http(url, token, work):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        async with streamable_http_client(url, http_client=client) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                return await work(session)


async def main():
    mode = sys.argv[1]
    if mode == "usage-stdio":
        out = await over_stdio(sys.argv[2], sys.argv[3], lambda s: usage(s, sys.argv[4]))
    elif mode == "usage-http":
        out = await over_http(sys.argv[2], sys.argv[3], lambda s: usage(s, sys.argv[4]))
    elif mode == "alerts-stdio":
        params = StdioServerParameters(command=sys.argv[2], args=["--data-dir", sys.argv[3], "mcp"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await alerts(session)
    elif mode == "alerts-http":
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {sys.argv[3]}"}, timeout=60) as client:
            async with streamable_http_client(sys.argv[2], http_client=client) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    out = await alerts(session)
    elif mode == "busy":
        params = StdioServerParameters(command=sys.argv[2], args=["--data-dir", sys.argv[3], "mcp"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                out = await call(session, "collection_status", {})
                out["saved_run"] = await call(
                    session, "run_saved_search", {"search": sys.argv[4], "limit": 3}
                )
    elif mode == "stdio":
        binary, data_dir, scenario = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        params = StdioServerParameters(command=binary, args=["--data-dir", data_dir, "mcp"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await exercise(session, scenario)
    else:
        url, token, scenario = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            async with streamable_http_client(url, http_client=client) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    out = await exercise(session, scenario)
        # Without a token the server must refuse before any MCP exchange.
        async with httpx2.AsyncClient(timeout=30) as anonymous:
            refused = await anonymous.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                headers={"Accept": "application/json, text/event-stream"},
            )
            out["anonymous_status"] = refused.status_code
    print(json.dumps(out))


asyncio.run(main())
