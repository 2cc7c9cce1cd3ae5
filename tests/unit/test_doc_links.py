"""Relative links in the documents resolve: inside the tarball for every Markdown and reStructuredText file
it ships (the build leaves tests/, bench/ and the rest out, so a link there breaks on Galaxy and in an
installed copy), and in the repository for every Markdown file of the checkout. A link to a heading of a
Markdown file (`file.md#heading`, `#heading`) must name a heading that file has.
"""

import posixpath
import re

import pytest

from ansible_collections.modwsgi.deploy.tests.unit.collection_build import ROOT, read, shipped

SKIP_DIRS = {".git", ".venv", ".cache", ".ansible", ".pytest_cache", "node_modules"}
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _strip_fences(text):
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)


def _strip_code(text):
    """Markdown without fenced blocks and inline code, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", _strip_fences(text))


def markdown_links(text):
    text = _strip_code(text)
    links = re.findall(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    links += re.findall(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", text, flags=re.M)
    return links


def rst_links(text):
    links = re.findall(r"`[^`<]*<([^`>]+)>`__?", text)
    # A named target with its URL on the same line; a bare label (".. _name:") is an anchor, not a link.
    links += re.findall(r"^\.\. _[^:\n]+:[ \t]+(\S+)[ \t]*$", text, flags=re.M)
    links += re.findall(r"^\.\. (?:image|figure|include|literalinclude)::\s*(\S+)", text, flags=re.M)
    return links


def links(name, text):
    return rst_links(text) if name.endswith(".rst") else markdown_links(text)


def anchors(markdown):
    """GitHub's ids for the headings of a Markdown text: lower case, punctuation dropped, spaces to
    hyphens, a repeated heading numbered -1, -2, ..."""
    seen = {}
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", _strip_fences(markdown), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        yield slug if count == 0 else "%s-%d" % (slug, count)


def broken(name, text, exists, read_text):
    """The relative links of document `name` (a POSIX path from the root) that do not resolve."""
    bad = []
    for link in links(name, text):
        if SCHEME.match(link) or link.startswith("//"):
            continue
        path, fragment = link.partition("#")[::2]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) if path else name
        if target.startswith("../") or not exists(target):
            bad.append(link)
        elif fragment and target.endswith(".md") and fragment not in set(anchors(read_text(target))):
            bad.append(link)
    return bad


def shipped_documents():
    members = shipped()[1]
    return sorted(name for name, info in members.items() if info.isfile() and name.endswith((".md", ".rst")))


def test_the_tarball_ships_documents():
    assert {"README.md", "roles/server/README.md", "roles/app/README.md"} <= set(shipped_documents())


@pytest.mark.parametrize("document", shipped_documents())
def test_links_in_shipped_documents_resolve_in_the_tarball(document):
    tarball, members = shipped()

    def text_of(target):
        return read(tarball, target)

    assert broken(document, text_of(document), members.__contains__, text_of) == []


def repository_documents():
    return sorted(str(path.relative_to(ROOT).as_posix()) for path in ROOT.rglob("*.md")
                  if not SKIP_DIRS & set(path.relative_to(ROOT).parts) and "output" not in path.parts)


@pytest.mark.parametrize("document", repository_documents())
def test_links_resolve_in_the_repository(document):
    def text_of(target):
        return (ROOT / target).read_text(encoding="utf-8")

    assert broken(document, text_of(document), lambda target: (ROOT / target).exists(), text_of) == []


def test_the_checker_finds_broken_links():
    text = "[a](docs/missing.md) [b](README.md#no-such-heading) [c](../outside.md) `[d](x.md)` [e](https://x.y/z)"
    files = {"README.md": "# Title\n", "docs": None}
    assert broken("README.md", text, files.__contains__, files.get) == [
        "docs/missing.md", "README.md#no-such-heading", "../outside.md"]
    assert list(anchors("# The `server` role\n## Several apps, PyPI apps, TLS\n## X\n## X\n")) == [
        "the-server-role", "several-apps-pypi-apps-tls", "x", "x-1"]
    assert rst_links("See `the docs <docs/a.md>`_ and\n\n.. _x: ../b.rst\n") == ["docs/a.md", "../b.rst"]
