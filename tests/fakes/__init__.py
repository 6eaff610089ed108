"""Fakes of the model APIs and agent CLIs the providers talk to; nothing leaves 127.0.0.1.

HTTP APIs (real SDKs on the client side, real wire formats on ours)::

    from fakes.openai_server import FakeOpenAI          # POST /v1/chat/completions
    from fakes.anthropic_server import FakeAnthropic    # POST /v1/messages
    from fakes.replies import Reply, ErrorReply, call, rate_limited

    @pytest.fixture
    def fake_openai() -> Iterator[FakeOpenAI]:
        with FakeOpenAI() as server:   # a thread serving 127.0.0.1:<free port>
            yield server

    fake_openai.add(
        Reply(text="Plan: read calc.py, then fix add()."),
        Reply(tool_calls=[call("read_file", path="calc.py")]),
        rate_limited(retry_after=30),                  # 429 + retry-after header
        Reply(text="Done.", tool_calls=[call("finish", summary="Fixed add().")]),
    )

Each request takes the next script entry; an entry may also be a function of the
``RecordedRequest`` (e.g. a 429 only for one key). ``server.requests`` holds every request
(path, lower-cased headers, JSON body) and ``server.api_keys`` the key each one carried. A
request past the end of the script gets a 500 naming its number, so a short script fails
loudly. Point a provider at it with settings such as::

    {"providers": {"openai": {"model": "gpt-test", "baseUrl": fake_openai.url,
                              "apiKeyEnv": ["OPENAI_KEY_A", "OPENAI_KEY_B"]}}}

(``FakeAnthropic.url`` likewise for ``anthropic``) and the keys in the environment of
whatever process runs the provider: the test's, or the daemon subprocess's. The server runs
in a thread, so it serves a daemon subprocess and blocking calls as well as in-process SDKs.

Agent CLIs: ``fakes.claude_cli.install_fake_claude(bin_dir)`` writes a fake ``claude`` that
prints stream-json lines (tags in the prompt pick the scenario, see its docstring);
``fakes.shell_agent.shell_agent_command(...)`` is an argv template for ``local_shell``.
"""
