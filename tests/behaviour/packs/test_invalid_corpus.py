"""Each manifest of `tests/corpus/invalid/` is rejected by the defaulting and validation packs
exactly as its header says (spec §5.2, §6.1 V-1..V-35).

Header lines of a corpus file (YAML comments before the manifest):
* `# expect: <field>: <key phrase>`: one expected error (an empty field is written `""`);
  every error must be expected and every expectation met;
* `# inputs: {...}`: extra inputs of the validation pack as JSON (featureGates,
  existingPVCs, pvcLookupErrors).
The file name starts with the V-* rule id; that rule must be among the ones that fired.
"""

import json
import pathlib
import re

import pytest
import yaml

from engine.cel import backends
from engine.model import names
from engine.rules import loading, registry

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "corpus" / "invalid"
FILES = sorted(CORPUS.glob("V-*.yaml"))
RULE_COUNT = 35


def header(path: pathlib.Path) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """The expected (field, phrase) pairs and the extra inputs of one corpus file."""
    expected: list[tuple[str, str]] = []
    inputs: dict[str, object] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# expect: "):
            field, _, phrase = line.removeprefix("# expect: ").partition(": ")
            expected.append(("" if field == '""' else field, phrase))
        elif line.startswith("# inputs: "):
            inputs = json.loads(line.removeprefix("# inputs: "))
    return expected, inputs


@pytest.fixture(scope="module", params=backends.available_backends())
def rules(request: pytest.FixtureRequest) -> registry.Registry:
    loaded = registry.Registry(backends.get_backend(request.param))
    problems = loaded.load([loading.builtin_directory()])
    assert not problems, "\n".join(str(problem) for problem in problems)
    return loaded


def test_every_create_rule_has_a_corpus_file() -> None:
    """§6.1: one invalid manifest per V-* rule, named after it."""
    ids = {int(re.match(r"V-(\d+)-", path.name).group(1)) for path in FILES}
    assert ids == set(range(1, RULE_COUNT + 1))
    assert all(header(path)[0] for path in FILES), "every corpus file states its expected errors"


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_corpus_file_is_rejected_as_its_header_says(path: pathlib.Path, rules: registry.Registry) -> None:
    """§6.1: the rule named by the file fires, with the stated field paths and key phrases."""
    expected, inputs = header(path)
    manifest = yaml.safe_load(path.read_text())
    defaulted = rules.evaluate_phase("default", {"object": manifest})
    assert not defaulted.errors, defaulted.errors
    result = rules.evaluate_phase("validate", {
        "object": defaulted.subject, "operation": "CREATE",
        "nameForValidation": names.name_for_validation(manifest["metadata"]), **inputs})
    actual = [(error.field, error.message) for error in result.errors]
    unmatched = [(field, phrase) for field, phrase in expected
                 if not any(f == field and phrase in message for f, message in actual)]
    unexpected = [(field, message) for field, message in actual
                  if not any(f == field and phrase in message for f, phrase in expected)]
    assert not unmatched and not unexpected, f"missing {unmatched}; unexpected {unexpected}"
    rule_id = "V-" + str(int(path.name.split("-")[1])) + "-"
    assert any(error.origin.rsplit("/", 1)[-1].startswith(rule_id) for error in result.errors)
