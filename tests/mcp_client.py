"""`heygen mcp --simulate`, driven by the MCP Python SDK (`mcp` on PyPI), a client this
project did not write. `.ci/run` installs the SDK and runs this file after the Rust tests:

    python tests/mcp_client.py target/debug/heygen

It initialises, lists the tools, calls a read, creates a video and waits for it with progress
notifications, cancels a wait, downloads into an allowed folder and is refused outside it,
and checks that `--read-only` hides every writing tool. Exits non-zero on the first failure.
"""

import json
import os
import sys
import tempfile

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def answer(result):
    """The JSON a tool answered, or a failure naming its error."""
    text = "".join(block.text for block in result.content if block.type == "text")
    assert not result.is_error, text
    return json.loads(text)


def error_text(result):
    assert result.is_error, "expected a tool error"
    return "".join(block.text for block in result.content if block.type == "text")


async def serve(binary, args, errlog, check):
    env = {"HOME": tempfile.gettempdir(), "PATH": os.environ.get("PATH", "")}
    params = StdioServerParameters(
        command=binary,
        args=["mcp", "--simulate", "--time-scale", "60", *args],
        env=env,
    )
    async with stdio_client(params, errlog=errlog) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await check(session)


async def full_server(session, allowed, outside, errlog_path):
    tools = (await session.list_tools()).tools
    names = {tool.name for tool in tools}
    for expected in ("get_video", "create_video_agent_session", "wait_for_jobs",
                     "download_results", "upload_file"):
        assert expected in names, f"{expected} is not served: {sorted(names)}"
    get_video = next(t for t in tools if t.name == "get_video")
    assert get_video.annotations.read_only_hint is True

    user = answer(await session.call_tool("get_current_user", {}))
    assert user["username"] == "simulated", user

    progress = []

    async def on_progress(value, total, message):
        progress.append(message)

    made = answer(await session.call_tool(
        "create_video_agent_session",
        {"prompt": "A product tour", "wait": True, "timeout_seconds": 300},
        progress_callback=on_progress,
    ))
    job = made["jobs"][0]
    assert job["state"] == "completed", made
    assert progress and any("completed" in (m or "") for m in progress), progress
    session_id = made["created"]["session_id"]

    saved = answer(await session.call_tool(
        "download_results", {"kind": "video_agent", "id": session_id, "folder": "videos"}))
    path = saved["files"][0]["path"]
    assert path.startswith(os.path.realpath(allowed)), path
    assert os.path.getsize(path) > 0

    refused = await session.call_tool(
        "download_results", {"kind": "video_agent", "id": session_id, "folder": outside})
    assert "outside the folders" in error_text(refused)

    bad = await session.call_tool("create_video_agent_session",
                                  {"prompt": "A tour", "orientation": "diagonal"})
    assert "diagonal" in error_text(bad)

    # A wait cancelled by the client: the server stops it and goes on serving.
    slow = answer(await session.call_tool("create_video_agent_session", {"prompt": "Slow"}))
    with anyio.move_on_after(0.2):
        await session.call_tool(
            "wait_for_jobs",
            {"kind": "video_agent", "ids": [slow["session_id"]], "timeout_seconds": 3600},
        )
        raise AssertionError("the wait ended before it was cancelled")
    with anyio.fail_after(10):
        user = answer(await session.call_tool("get_current_user", {}))
    assert user["username"] == "simulated"
    with anyio.fail_after(10):
        while True:
            with open(errlog_path) as log:
                if "stopped waiting" in log.read():
                    break
            await anyio.sleep(0.05)


async def read_only_server(session):
    tools = (await session.list_tools()).tools
    assert tools, "no tools"
    for tool in tools:
        assert tool.annotations.read_only_hint is True, tool.name
    names = {tool.name for tool in tools}
    assert not names & {"create_video", "upload_file", "download_results"}, names


async def main(binary):
    with tempfile.TemporaryDirectory() as root:
        allowed = os.path.join(root, "allowed")
        os.mkdir(allowed)
        errlog_path = os.path.join(root, "stderr.txt")
        with open(errlog_path, "w") as errlog:
            await serve(binary, ["--allow-dir", allowed], errlog,
                        lambda s: full_server(s, allowed, root, errlog_path))
            await serve(binary, ["--read-only", "--all-operations"], errlog, read_only_server)
    print("mcp_client.py: every check passed")


if __name__ == "__main__":
    anyio.run(main, os.path.abspath(sys.argv[1]))
