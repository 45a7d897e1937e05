"""Applying patch operations to the working subject and recording them as absolute RFC 6902.

Owns: `Working` (the subject being patched in one evaluation, copied once on creation),
its `add`/`replace`/`remove`/`merge` (docs/rule-packs.md §2.5), `PatchError`, `pointer`,
`parse_pointer` and `copy_json`. Each method returns the absolute operations it performed,
parents it created first, each tagged with its origin, and logs the tokens of each in
`touched` (what activations made before it may no longer show). `Working` takes ownership of the values it is given
(it inserts them as they are; callers pass copies of data they keep) and records the same
value in its operations: copy on write keeps the record intact, since a later operation
that goes through an inserted value first replaces it, in the subject, by a copy. So the
patched subject and the operations' values may share structure: copy before mutating either.
Called by: `engine.rules.evaluating`, `engine.rules.effects`, `engine.rules.compiling`.
Must not import: anything in `engine` but `engine.rules.decisions`.
"""

from __future__ import annotations

import functools
import marshal
from typing import Any

from engine.rules import decisions


class PatchError(Exception):
    """An operation that cannot apply (replace of a missing target, bad index, non-container)."""


def copy_json(value: Any) -> Any:
    """Deep copy of JSON-like data: dicts and lists are copied, anything else is shared.

    A marshal round trip (format 2, which never shares a copied value between two places)
    copies plain JSON data at C speed; what marshal refuses (subclasses, other objects, very
    deep data) is copied by `_copy`.
    """
    if not isinstance(value, (dict, list)):
        return value
    try:
        return marshal.loads(marshal.dumps(value, 2))
    except ValueError:
        return _copy(value)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


@functools.lru_cache(maxsize=4096)
def parse_pointer(text: str) -> tuple[str, ...]:
    """RFC 6901 JSON Pointer -> its unescaped reference tokens ('' is the root)."""
    if text == "":
        return ()
    if not text.startswith("/"):
        raise ValueError(f"JSON pointer {text!r} must be empty or start with '/'")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/"))


@functools.lru_cache(maxsize=8192)
def pointer(tokens: tuple[str | int, ...]) -> str:
    """Tokens -> RFC 6901 pointer ('' for the root); the same paths recur from request to request."""
    text = [str(token) for token in tokens]
    if any("~" in token or "/" in token for token in text):
        text = [token.replace("~", "~0").replace("/", "~1") for token in text]
    return "/" + "/".join(text) if text else ""


class Working:
    """The subject of one evaluation; copied once (unless the caller hands it over: `owned`),
    then patched in place."""

    def __init__(self, subject: Any, *, owned: bool = False) -> None:
        self.root = subject if owned else copy_json(subject)
        self._recorded: set[int] = set()  # ids of containers an operation also holds
        self.touched: list[tuple[str | int, ...]] = []  # the tokens of every operation, in order

    def _record(self, op: str, tokens: tuple[str | int, ...], value: Any, origin: str) -> decisions.Operation:
        """The operation that inserted `value`, which then stays as it is (copy on write)."""
        if isinstance(value, (dict, list)):
            self._recorded.add(id(value))
        self.touched.append(tokens)
        return decisions.Operation(op, pointer(tokens), value, origin)

    def _owned(self, node: Any) -> Any:
        """`node`, or a copy of it when an operation holds it (the caller puts the copy in place)."""
        if id(node) in self._recorded:
            self._recorded.discard(id(node))
            return copy_json(node)
        return node

    def add(self, tokens: tuple[str | int, ...], value: Any, origin: str) -> list[decisions.Operation]:
        """RFC 6902 add; missing parent objects are created (each as its own add)."""
        if not tokens:
            self.root = value
            return [self._record("add", tokens, value, origin)]
        created: list[decisions.Operation] = []
        parent = self._parent(tokens, create=created, origin=origin)
        key = tokens[-1]
        if isinstance(parent, dict):
            parent[str(key)] = value
        elif isinstance(parent, list):
            parent.insert(_list_index(parent, key, tokens, insert=True), value)
        else:
            raise PatchError(f"cannot add at {pointer(tokens)}: parent is not an object or a list")
        return created + [self._record("add", tokens, value, origin)]

    def replace(self, tokens: tuple[str | int, ...], value: Any, origin: str) -> list[decisions.Operation]:
        """RFC 6902 replace; the target must exist."""
        if not tokens:
            self.root = value
        else:
            parent = self._parent(tokens)
            key = tokens[-1]
            if isinstance(parent, dict) and str(key) in parent:
                parent[str(key)] = value
            elif isinstance(parent, list):
                parent[_list_index(parent, key, tokens, insert=False)] = value
            else:
                raise PatchError(f"cannot replace {pointer(tokens)}: it does not exist")
        return [self._record("replace", tokens, value, origin)]

    def remove(self, tokens: tuple[str | int, ...], origin: str) -> list[decisions.Operation]:
        """RFC 6902 remove; a missing target is not an error (nothing is recorded)."""
        if not tokens:
            raise PatchError("cannot remove the subject itself")
        try:
            parent = self._parent(tokens)
        except PatchError:
            return []
        key = tokens[-1]
        if isinstance(parent, dict) and str(key) in parent:
            del parent[str(key)]
        elif isinstance(parent, list) and _is_index(key) and int(key) < len(parent):
            del parent[int(key)]
        else:
            return []
        self.touched.append(tokens)
        return [decisions.Operation("remove", pointer(tokens), None, origin)]

    def merge(self, tokens: tuple[str | int, ...], value: Any, origin: str) -> list[decisions.Operation]:
        """RFC 7386 merge of `value` into the object at `tokens` (created if missing)."""
        if not isinstance(value, dict):
            return self.add(tokens, value, origin) if tokens else self.replace(tokens, value, origin)
        operations: list[decisions.Operation] = []
        target = self._get(tokens)
        if not isinstance(target, dict):
            operations += self.add(tokens, {}, origin) if tokens else self.replace(tokens, {}, origin)
            target = self._get(tokens)
        for key, item in value.items():
            path = tokens + (key,)
            if item is None:
                operations += self.remove(path, origin) if key in target else []
            elif isinstance(item, dict) and isinstance(target.get(key), dict):
                operations += self.merge(path, item, origin)
            else:
                operations += self.add(path, _without_nulls(item), origin)
        return operations

    def _get(self, tokens: tuple[str | int, ...]) -> Any:
        node = self.root
        for token in tokens:
            if isinstance(node, dict):
                node = node.get(str(token))
            elif isinstance(node, list) and _is_index(token) and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def _parent(self, tokens: tuple[str | int, ...], *, create: list[decisions.Operation] | None = None,
                origin: str = "") -> Any:
        """The container holding the last token; creates missing objects when `create` is given."""
        recorded = self._recorded
        node = self.root = self._owned(self.root) if recorded else self.root
        for depth, token in enumerate(tokens[:-1]):
            if isinstance(node, dict):
                key = str(token)
                child = node.get(key)
                if child is None:
                    if create is None:
                        raise PatchError(f"{pointer(tokens[:depth + 1])} does not exist")
                    child = node[key] = {}
                    self.touched.append(tokens[:depth + 1])
                    create.append(decisions.Operation("add", pointer(tokens[:depth + 1]), {}, origin))
                elif recorded and id(child) in recorded:
                    child = node[key] = self._owned(child)
            elif isinstance(node, list):
                position = _list_index(node, token, tokens, insert=False)
                child = node[position]
                if recorded and id(child) in recorded:
                    child = node[position] = self._owned(child)
            else:
                raise PatchError(f"{pointer(tokens[:depth + 1])} is inside a value that is not an object or a list")
            node = child
        return node


def _is_index(token: str | int) -> bool:
    return isinstance(token, int) or (token.isdigit() and (token == "0" or not token.startswith("0")))


def _list_index(items: list[Any], token: str | int, tokens: tuple[str | int, ...], *, insert: bool) -> int:
    if insert and token == "-":
        return len(items)
    if not _is_index(token) or int(token) > len(items) or (not insert and int(token) == len(items)):
        raise PatchError(f"{pointer(tokens)}: index {token!r} is out of range for a list of {len(items)}")
    return int(token)


def _without_nulls(value: Any) -> Any:
    """A merge-patch value as it lands in a new place: null members dropped."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
