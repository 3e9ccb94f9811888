from __future__ import annotations

import textwrap

import pytest

from helpers.workflows import load_yaml
from shipyard.workflows.emit import Commented, Inline, Spaced, dump, scalar

# Strings a careless writer turns into numbers, booleans, nulls, tags or comments.
TRICKY = [
    "3.10",
    "3.9",
    "1",
    "0o17",
    "1_000",
    "1e3",
    ".inf",
    ".nan",
    "on",
    "On",
    "off",
    "yes",
    "No",
    "y",
    "n",
    "true",
    "False",
    "null",
    "~",
    "",
    " leading",
    "trailing ",
    "a: b",
    "a #b",
    "ends:",
    "!cancelled()",
    "*alias",
    "&anchor",
    "- item",
    "? key",
    "@at",
    "`tick",
    "%percent",
    "'quoted'",
    '"double"',
    "it's",
    "[a, b]",
    "{a: 1}",
    "|",
    ">",
    "#comment",
    "2025-01-01",
    "12:30",
    "tab\there",
    "line\nbreak",
    "café",
    "\u2028",
    "${{ matrix.python }}",
    "${{ !cancelled() && hashFiles('x') != '' }}",
    "github.event_name == 'pull_request'",
    "refs/heads/main",
    "v*",
    "0 6 * * *",
]


@pytest.mark.parametrize("version", [(1, 2), (1, 1)])
@pytest.mark.parametrize("text", TRICKY)
def test_every_string_reads_back_as_itself_in_block_and_flow(text: str, version) -> None:
    doc = {"block": text, "flow": [text, "x"], "inline": [Inline({"k": text})]}
    assert load_yaml(dump(doc), version=version) == {
        "block": text,
        "flow": [text, "x"],
        "inline": [{"k": text}],
    }


def test_version_strings_are_quoted_and_plain_words_are_not() -> None:
    assert scalar("3.10") == "'3.10'"
    assert scalar("on") == "'on'"
    assert scalar("it's") == "it's"
    assert scalar("!cancelled()") == "'!cancelled()'"
    assert scalar("ubuntu-24.04") == "ubuntu-24.04"
    assert scalar("${{ matrix.id }}") == "${{ matrix.id }}"
    assert scalar("a,b", flow=True) == "'a,b'"
    assert scalar(True) == "true"  # noqa: FBT003
    assert scalar(30) == "30"


def test_on_key_reads_back_as_the_string_on_in_yaml_1_2() -> None:
    data = load_yaml(dump({"on": {"push": {}}}))
    assert list(data) == ["on"]


def test_multiline_strings_become_literal_blocks() -> None:
    text = dump({"python-version": "${{ matrix.python }}\n3.12\n", "script": "a\nb"})
    assert text == textwrap.dedent(
        """\
        python-version: |
          ${{ matrix.python }}
          3.12
        script: |-
          a
          b
        """
    )
    assert load_yaml(text) == {"python-version": "${{ matrix.python }}\n3.12\n", "script": "a\nb"}


def test_golden_small_workflow() -> None:
    steps = [
        {"uses": Commented("actions/checkout@" + "0" * 40, "v5.0.0"), "with": {"depth": 1}},
        {"run": "nox -s lint"},
    ]
    jobs = Spaced(
        {
            "lint": {
                "runs-on": "ubuntu-24.04",
                "permissions": {"contents": "read"},
                "steps": steps,
            },
            "test": {
                "strategy": {"matrix": {"include": [Inline({"id": "a", "python": "3.10"})]}},
                "needs": ["lint"],
            },
        }
    )
    doc = Spaced({"name": "ci", "on": {"push": {"branches": ["main"]}}, "permissions": {}})
    doc["jobs"] = jobs
    assert dump(doc, header=["made by a test", ""]) == textwrap.dedent(
        """\
        # made by a test
        #

        name: ci

        on:
          push:
            branches: [main]

        permissions: {}

        jobs:
          lint:
            runs-on: ubuntu-24.04
            permissions:
              contents: read
            steps:
              - uses: actions/checkout@0000000000000000000000000000000000000000 # v5.0.0
                with:
                  depth: 1
              - run: nox -s lint

          test:
            strategy:
              matrix:
                include:
                  - {id: a, python: '3.10'}
            needs: [lint]
        """
    )


def test_long_lists_and_entries_fall_back_to_blocks() -> None:
    names = [f"branch-{i:02d}" for i in range(20)]
    text = dump({"branches": names})
    assert text.startswith("branches:\n  - branch-00\n")
    assert load_yaml(text) == {"branches": names}


def test_bad_keys_and_values_are_refused() -> None:
    with pytest.raises(TypeError, match="plain words"):
        dump({"a b": 1})
    with pytest.raises(TypeError, match="float"):
        dump({"a": 1.5})


def test_same_data_same_bytes() -> None:
    doc = {"a": ["x", Inline({"b": "3.10"})], "c": {"d": "${{ e }}"}}
    assert dump(doc) == dump(dict(doc))
