"""The fake OpenAI-compatible upstream that gateway tests and benchmarks stand on: it must behave like one."""

from __future__ import annotations

import aiohttp

from mac.testing.fake_openai import FakeOpenAI, FakeReply

from gwkit import chat, run, short_dir, user


def test_fake_serves_on_a_unix_socket_with_scripted_replies_in_order() -> None:
    async def main() -> None:
        with short_dir() as folder:
            fake = FakeOpenAI(lambda body: "echo: " + body["messages"][-1]["content"], api_key="sk-fake-key-123")
            await fake.start(path=folder / "up.sock")
            try:
                fake.push("first", FakeReply(status=503, error="busy"))
                connector = aiohttp.UnixConnector(path=str(folder / "up.sock"))
                async with aiohttp.ClientSession(connector=connector) as s:
                    base = fake.url
                    assert (await chat(s, base, "sk-wrong", user("a")))[0] == 401
                    first = await chat(s, base, "sk-fake-key-123", user("a", n=2))
                    busy = await chat(s, base, "sk-fake-key-123", user("a"))
                    echo = await chat(s, base, "sk-fake-key-123", user("hello"))
            finally:
                await fake.close()
        assert [c["message"]["content"] for c in first[1]["choices"]] == ["first", "first"]
        assert first[1]["usage"] == {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}
        assert busy[0] == 503 and busy[1]["error"]["message"] == "busy"
        assert echo[1]["choices"][0]["message"]["content"] == "echo: hello"
        assert [r.body["messages"][0]["content"] for r in fake.received] == ["a", "a", "a", "hello"]

    run(main())


def test_fake_streams_and_reports_usage_only_when_asked() -> None:
    async def main() -> None:
        async with FakeOpenAI("abcdefghij", chunk_chars=4) as fake, aiohttp.ClientSession() as s:
            _, plain = await chat(s, fake.url, "any", user("q", stream=True))
            _, counted = await chat(s, fake.url, "any", user("q", stream=True, stream_options={"include_usage": True}))
        assert plain[-1] == "[DONE]" and all('"usage"' not in e for e in plain)
        assert len(plain) == 1 + 3 + 1 + 1  # role, three pieces, finish, [DONE]
        assert '"completion_tokens": 3' in counted[-2]

    run(main())
