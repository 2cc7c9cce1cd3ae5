# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The WSGI application an app's entry_point names: 'module:callable' or a factory call 'module:factory(...)'.

Standard library only, valid for Python 3.6+, and usable as plain source text: the wsgi_check module ships this file
to its check process, and the app role inlines it at the top of the generated .wsgi file (no relative imports).
The arguments of a factory call are Python literals, read with ast.literal_eval (nothing is ever evaluated).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import os
import re

EXPANDED_NAMES = ('MODWSGI_APP', 'MODWSGI_APP_ROOT', 'MODWSGI_APP_DATA', 'MODWSGI_APP_CONFIG', 'MODWSGI_APP_RELEASE')

_FORMS = ("must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' / "
          "'module:factory(<Python literals>)' (e.g. 'blog:create_app()' or "
          "'pypiserver:app(roots=[\"${MODWSGI_APP_DATA}/packages\"])')")
_REFERENCE = re.compile(r'\$\{(MODWSGI_APP(?:_\w*)?)\}')
_KINDS = ((ast.Name, 'a name (strings need quotes)'), (ast.Call, 'a call'), (ast.Attribute, 'attribute access'))


def _refuse(text, problem):
    raise ValueError('entry_point %r %s; %s.' % (text, _FORMS, problem))


def _reference(name):
    return '$' + '{' + name + '}'  # spelled out: this file is inlined into a Jinja template


def _names():
    return ', '.join(_reference(name) for name in EXPANDED_NAMES)


def _map_strings(value, function):
    """Apply function to every str in value, inside lists, tuples, sets and dicts (keys and values).

    A bytes value is decoded as a file name is (os.fsdecode: the file system encoding, with surrogateescape, so any
    bytes decode), given to function, and encoded back the same way (os.fsencode): bytes the function leaves alone
    come back unchanged, and what it puts in (a path from os.environ) is encoded as the operating system would.
    """
    if isinstance(value, str):
        return function(value)
    if isinstance(value, bytes):
        return os.fsencode(function(os.fsdecode(value)))
    if isinstance(value, dict):
        return dict((_map_strings(key, function), _map_strings(item, function)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return type(value)(_map_strings(item, function) for item in value)
    return value


def expand_directories(value, environ):
    """Replace ${MODWSGI_APP}, ${MODWSGI_APP_DATA}, ... (EXPANDED_NAMES) in the strings and bytes of value by their
    value in environ (in bytes, encoded with os.fsencode). Other '$' are left alone. Raises ValueError for another
    ${MODWSGI_APP_...} name or one not in environ."""
    def replace(match):
        name = match.group(1)
        if name not in EXPANDED_NAMES:
            raise ValueError('%s is not one of the names expanded in entry_point arguments: %s'
                             % (_reference(name), _names()))
        if name not in environ:
            raise ValueError('%s is not set in the environment; the names expanded in entry_point arguments '
                             'are %s' % (_reference(name), _names()))
        return environ[name]
    return _map_strings(value, lambda text: _REFERENCE.sub(replace, text))


def _dotted(text, part, label):
    if not part:
        _refuse(text, 'the %s part is empty' % label)
    for name in part.split('.'):
        if not name.isidentifier():
            _refuse(text, '%r in the %s part is not a Python identifier' % (name, label))


def _literal(text, source, node, label):
    if hasattr(ast, 'get_source_segment'):  # Python 3.8+
        label += ' (%s)' % ast.get_source_segment(source, node)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        description = [what for kind, what in _KINDS if isinstance(node, kind)] or ['an expression']
        _refuse(text, '%s is %s, not a Python literal: only strings, numbers, True, False, None and lists, tuples, '
                      'dicts and sets of them are accepted' % (label, description[0]))
    try:
        expand_directories(value, dict.fromkeys(EXPANDED_NAMES, ''))
    except ValueError as exc:
        _refuse(text, 'in %s, %s' % (label, exc))
    return value


def parse_entry_point(text):
    """Return {'module', 'attributes', 'call', 'args', 'kwargs'} for an entry_point. Raises ValueError."""
    if not isinstance(text, str) or not text:
        _refuse(text, 'it is empty' if text == '' else 'it is not a string')
    if any(ord(char) < 32 or char == '\x7f' for char in text):
        _refuse(text, 'it contains a line break or another control character')
    head, paren, call = text.partition('(')
    if ':' not in head:
        _refuse(text, 'there is no colon between the module and the callable')
    if head.count(':') > 1:
        _refuse(text, 'there is more than one colon before the arguments')
    module, dummy, attributes = head.partition(':')
    _dotted(text, module, 'module')
    _dotted(text, attributes, 'callable')
    entry = {'module': module, 'attributes': attributes.split('.'), 'call': bool(paren), 'args': [], 'kwargs': {}}
    if not paren:
        return entry
    source = '_' + paren + call
    try:
        tree = ast.parse(source, '<entry_point>', 'eval').body
    except (SyntaxError, ValueError) as exc:
        _refuse(text, 'the call is not valid Python (%s)' % (getattr(exc, 'msg', None) or exc))
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name) or tree.func.id != '_':
        _refuse(text, 'only one call, at the end, is accepted (no calls of its result, attribute access or '
                      'operators after it)')
    for index, node in enumerate(tree.args):
        if isinstance(node, ast.Starred):
            _refuse(text, '*args is not accepted, write the arguments out')
        entry['args'].append(_literal(text, source, node, 'argument %d' % (index + 1)))
    for keyword in tree.keywords:
        if keyword.arg is None:
            _refuse(text, '**kwargs is not accepted, write the keyword arguments out')
        if keyword.arg in entry['kwargs']:
            _refuse(text, 'the keyword argument %r is given twice' % keyword.arg)
        entry['kwargs'][keyword.arg] = _literal(text, source, keyword.value, 'keyword argument %r' % keyword.arg)
    return entry


def load_application(text, environ, call_factory=True):
    """Import the module of entry_point text, look up the callable and, for a factory call, call it with its
    arguments (${MODWSGI_APP_*} expanded from environ). Returns the WSGI application.

    With call_factory=False (the import-only check of wsgi_check, made before the app's setup commands ran), the
    factory of a factory call is looked up and must be callable, but it is not called, and its arguments (already
    checked by parse_entry_point) are not expanded: environ is not used. Returns the factory then."""
    entry = parse_entry_point(text)
    call = entry['call'] and call_factory
    args = expand_directories(entry['args'], environ) if call else []
    kwargs = expand_directories(entry['kwargs'], environ) if call else {}
    target = importlib.import_module(entry['module'])
    owner = entry['module']
    for index, attribute in enumerate(entry['attributes']):
        try:
            target = getattr(target, attribute)
        except AttributeError:
            raise AttributeError("'%s' has no attribute '%s'" % (owner, attribute))
        owner = '%s:%s' % (entry['module'], '.'.join(entry['attributes'][:index + 1]))
    if not callable(target):
        raise TypeError("'%s' is a %s, not a callable" % (owner, type(target).__name__))
    if not call:
        return target
    application = target(*args, **kwargs)
    if not callable(application):
        raise TypeError("the factory '%s' returned %s, not a WSGI callable%s" % (
            owner, type(application).__name__, " (does it end with 'return app'?)" if application is None else ''))
    return application
