"""A tiny DOM for the dashboard's HTML, built with the standard library's html.parser.

Enough for the tests: elements with their attributes (entities decoded), children and
text, found by tag, attribute presence or value, and class token.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node | str] = []
        self.parent = parent

    def __repr__(self) -> str:
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items())
        return f"<{self.tag} {shown}>"

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def iter(self) -> Iterator[Node]:
        """This element and every element below it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def strings(self) -> Iterator[str]:
        """Every text node below this element, in document order."""
        for child in self.children:
            if isinstance(child, Node):
                yield from child.strings()
            else:
                yield child

    @property
    def text(self) -> str:
        """The text below, whitespace collapsed."""
        return " ".join("".join(self.strings()).split())

    def all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        """Elements below (and including) this one: `data_move=True` wants the attribute
        `data-move`, `data_call="..."` its exact value, `class_="x"` the class token x."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for node in self.iter():
            if node.tag == "#document" or (tag is not None and node.tag != tag):
                continue
            if all(_matches(node, name, value) for name, value in wanted.items()):
                found.append(node)
        return found

    def one(self, tag: str | None = None, **attrs: str | bool) -> Node:
        """The only element so found (fails if there are none or several)."""
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} elements {tag} {attrs}: {found}"
        return found[0]

    def ancestor(self, tag: str) -> Node:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"no <{tag}> around {self!r}"
        return node


def _matches(node: Node, name: str, value: str | bool) -> bool:
    if name not in node.attrs:
        return value is False
    if value is True:
        return True
    if value is False:
        return False
    if name == "class":
        return value in node.classes
    return node.attrs[name] == value


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: "" if v is None else v for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: "" if v is None else v for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"</{tag}> closes nothing open")

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str, whole: bool = True) -> Node:
    """The document (a `#document` node). Fails on an end tag that closes nothing and,
    with `whole`, on an element left open at the end."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    if whole:
        assert len(builder.stack) == 1, f"left open: {builder.stack[1:]}"
    return builder.root
