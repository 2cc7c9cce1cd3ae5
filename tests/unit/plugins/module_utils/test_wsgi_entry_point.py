# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The entry point loader (plugins/module_utils/wsgi_entry_point.py).

It is imported here and by the wsgi_check module, shipped as a file to the check process, and inlined into the app
role's .wsgi files: besides its functions, the file itself is tested (standard library, Python 3.6, standalone), and
the .wsgi template is rendered with Ansible and run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_entry_point as ep
from ansible_collections.modwsgi.deploy.plugins.module_utils.wsgi_entry_point import (
    EXPANDED_NAMES, expand_directories, load_application, parse_entry_point)
from ansible_collections.modwsgi.deploy.tests.unit.plugins.module_utils.test_wsgi_check_child import other_pythons

LOADER_FILE = ep.__file__
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(LOADER_FILE))))
FORMS = ("must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' / "
         "'module:factory(<Python literals>)' (e.g. 'blog:create_app()' or "
         "'pypiserver:app(roots=[\"${MODWSGI_APP_DATA}/packages\"])'); ")
NAMES = '${MODWSGI_APP}, ${MODWSGI_APP_ROOT}, ${MODWSGI_APP_DATA}, ${MODWSGI_APP_CONFIG}, ${MODWSGI_APP_RELEASE}'
LITERALS = 'not a Python literal: only strings, numbers, True, False, None and lists, tuples, dicts and sets of them'


def read_loader_file():
    with open(LOADER_FILE, 'rb') as handle:
        return handle.read()


def entry(module, attributes, call=False, args=(), kwargs=None):
    return {'module': module, 'attributes': attributes, 'call': call, 'args': list(args), 'kwargs': kwargs or {}}


# ---------------------------------------------------------------------------
# parse_entry_point
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('hello:app', entry('hello', ['app'])),
    ('mysite.wsgi:application', entry('mysite.wsgi', ['application'])),
    ('myapp.server:app.wsgi_app', entry('myapp.server', ['app', 'wsgi_app'])),
    (u'caf\u00e9:app', entry(u'caf\u00e9', ['app'])),
    ('blog:create_app()', entry('blog', ['create_app'], call=True)),
    ('blog.factory:App.create()', entry('blog.factory', ['App', 'create'], call=True)),
    ('blog:create_app("prod", debug=False)', entry('blog', ['create_app'], True, ['prod'], {'debug': False})),
    ('blog:create_app( "prod" , debug = False )', entry('blog', ['create_app'], True, ['prod'], {'debug': False})),
    ('pypiserver:app(roots=["${MODWSGI_APP_DATA}/packages"])',
     entry('pypiserver', ['app'], True, kwargs={'roots': ['${MODWSGI_APP_DATA}/packages']})),
    ('pkg.sub:make(1, {"a": [1, 2]})', entry('pkg.sub', ['make'], True, [1, {'a': [1, 2]}])),
    ("x:f(-1, 2.5, 1e3, 'single', b'bytes', None, True, (1,), (), {1, 2}, {}, [], [[[]]])",
     entry('x', ['f'], True, [-1, 2.5, 1000.0, 'single', b'bytes', None, True, (1,), (), {1, 2}, {}, [], [[[]]]])),
    ('x:f({"k": ({"n": [None, {"s"}]},)}, x={"y": ("${MODWSGI_APP}", 3)})',
     entry('x', ['f'], True, [{'k': ({'n': [None, {'s'}]},)}], {'x': {'y': ('${MODWSGI_APP}', 3)}})),
    ('x:f("a:b", ":", "(", ")")', entry('x', ['f'], True, ['a:b', ':', '(', ')'])),
    ('x:f("${HOME} $PATH ${MODWSGI_APPS} $MODWSGI_APP_X")',
     entry('x', ['f'], True, ['${HOME} $PATH ${MODWSGI_APPS} $MODWSGI_APP_X'])),
    ('x:f("tab\\there")', entry('x', ['f'], True, ['tab\there'])),
    ('mercurial.hgweb:hgweb(b"${MODWSGI_APP_DATA}/hgweb.config")',
     entry('mercurial.hgweb', ['hgweb'], True, [b'${MODWSGI_APP_DATA}/hgweb.config'])),
    ('x:f({b"${MODWSGI_APP}": [rb"\\${MODWSGI_APP_ROOT}", b"\\xff"]})',
     entry('x', ['f'], True, [{b'${MODWSGI_APP}': [b'\\${MODWSGI_APP_ROOT}', b'\xff']}])),
])
def test_parse_entry_point(text, expected):
    assert parse_entry_point(text) == expected


@pytest.mark.parametrize('text, problem', [
    ('', 'it is empty.'),
    (None, 'it is not a string.'),
    (42, 'it is not a string.'),
    ('hello', 'there is no colon between the module and the callable.'),
    ('hello.app', 'there is no colon between the module and the callable.'),
    ('hello(x=":")', 'there is no colon between the module and the callable.'),
    ('a:b:c', 'there is more than one colon before the arguments.'),
    ('a:b:c()', 'there is more than one colon before the arguments.'),
    (':app', 'the module part is empty.'),
    ('hello:', 'the callable part is empty.'),
    ('hello:()', 'the callable part is empty.'),
    ('my-site.wsgi:app', "'my-site' in the module part is not a Python identifier."),
    ('mysite..wsgi:app', "'' in the module part is not a Python identifier."),
    ('hello:app.', "'' in the callable part is not a Python identifier."),
    ('1hello:app', "'1hello' in the module part is not a Python identifier."),
    ('hello: app', "' app' in the callable part is not a Python identifier."),
    ('hello:create_app ()', "'create_app ' in the callable part is not a Python identifier."),
    ('hello:app)', "'app)' in the callable part is not a Python identifier."),
    ('hello:app\n', 'it contains a line break or another control character.'),
    ('hello:create_app(\n)', 'it contains a line break or another control character.'),
    ('hello:create_app("\x00")', 'it contains a line break or another control character.'),
    ('hello:create_app(', "the call is not valid Python ("),
    ('hello:create_app(1,,)', "the call is not valid Python ("),
    ('hello:create_app(debug=True, "prod")', 'the call is not valid Python (positional argument follows keyword '
                                             'argument).'),
    ('hello:create_app()()', 'only one call, at the end, is accepted (no calls of its result, attribute access or '
                             'operators after it).'),
    ('hello:create_app().wsgi_app', 'only one call, at the end, is accepted'),
    ('hello:create_app()[0]', 'only one call, at the end, is accepted'),
    ('hello:create_app() or None', 'only one call, at the end, is accepted'),
    ('hello:create_app(*args)', '*args is not accepted, write the arguments out.'),
    ('hello:create_app(*["prod"])', '*args is not accepted, write the arguments out.'),
    ('hello:create_app(**options)', '**kwargs is not accepted, write the keyword arguments out.'),
    ('hello:create_app(**{"debug": True})', '**kwargs is not accepted, write the keyword arguments out.'),
    ('hello:create_app(debug=1, debug=2)', "the keyword argument 'debug' is given twice."),
    ('hello:create_app(prod)', 'argument 1 (prod) is a name (strings need quotes), ' + LITERALS),
    ('hello:create_app("a", config=settings)',
     "keyword argument 'config' (settings) is a name (strings need quotes), " + LITERALS),
    ('hello:create_app(os.environ)', 'argument 1 (os.environ) is attribute access, ' + LITERALS),
    ('hello:create_app(1, dict(a=1))', 'argument 2 (dict(a=1)) is a call, ' + LITERALS),
    ('hello:create_app(__import__("os").system("true"))',
     'argument 1 (__import__("os").system("true")) is a call, ' + LITERALS),
    ('hello:create_app([1, open("x")])', 'argument 1 ([1, open("x")]) is an expression, ' + LITERALS),
    ('hello:create_app({"k": v})', 'argument 1 ({"k": v}) is an expression, ' + LITERALS),
    ('hello:create_app(lambda: 1)', 'argument 1 (lambda: 1) is an expression, ' + LITERALS),
    ('hello:create_app([x for x in "ab"])', 'argument 1 ([x for x in "ab"]) is an expression, ' + LITERALS),
    ('hello:create_app("a" if True else "b")', 'argument 1 ("a" if True else "b") is an expression, ' + LITERALS),
    ('hello:create_app(f"{x}")', 'argument 1 (f"{x}") is an expression, ' + LITERALS),
    ('hello:create_app(x:=1)', 'argument 1 (x:=1) is an expression, ' + LITERALS),
    ('hello:create_app("${MODWSGI_APP_HOME}")',
     'in argument 1 ("${MODWSGI_APP_HOME}"), ${MODWSGI_APP_HOME} is not one of the names expanded in entry_point '
     'arguments: ' + NAMES + '.'),
    ('hello:create_app(paths={"x": ["${MODWSGI_APP_}"]})',
     "in keyword argument 'paths' ({\"x\": [\"${MODWSGI_APP_}\"]}), ${MODWSGI_APP_} is not one of the names"),
    ('hello:create_app(b"${MODWSGI_APP_HOME}/x")',
     'in argument 1 (b"${MODWSGI_APP_HOME}/x"), ${MODWSGI_APP_HOME} is not one of the names expanded in '
     'entry_point arguments: ' + NAMES + '.'),
    ('hello:create_app(m={b"${MODWSGI_APP_X}": 1})',
     "in keyword argument 'm' ({b\"${MODWSGI_APP_X}\": 1}), ${MODWSGI_APP_X} is not one of the names"),
    ('hello:create_app([(b"ok", b"${MODWSGI_APP_data}")])',
     'in argument 1 ([(b"ok", b"${MODWSGI_APP_data}")]), ${MODWSGI_APP_data} is not one of the names'),
])
def test_parse_entry_point_refusals(text, problem):
    with pytest.raises(ValueError) as excinfo:
        parse_entry_point(text)
    message = str(excinfo.value)
    assert message.startswith('entry_point %r ' % (text,) + FORMS), message
    assert message[len('entry_point %r ' % (text,) + FORMS):].startswith(problem), message


def test_parse_entry_point_never_evaluates(tmp_path, monkeypatch):
    marker = tmp_path / 'evaluated'
    text = 'hello:create_app(open(%r, "w").close())' % str(marker)
    with pytest.raises(ValueError):
        parse_entry_point(text)
    assert not marker.exists()


def test_the_message_shows_both_forms():
    with pytest.raises(ValueError) as excinfo:
        parse_entry_point('x')
    assert str(excinfo.value) == (
        "entry_point 'x' must be 'module:callable' (e.g. 'hello:app') or a factory call 'module:factory()' / "
        "'module:factory(<Python literals>)' (e.g. 'blog:create_app()' or "
        "'pypiserver:app(roots=[\"${MODWSGI_APP_DATA}/packages\"])'); there is no colon between the module and the "
        "callable.")


# ---------------------------------------------------------------------------
# expand_directories
# ---------------------------------------------------------------------------

ENVIRON = {
    'MODWSGI_APP': 'blog',
    'MODWSGI_APP_ROOT': '/srv/blog',
    'MODWSGI_APP_DATA': '/srv/blog/data',
    'MODWSGI_APP_CONFIG': '/etc/blog',
    'MODWSGI_APP_RELEASE': '/srv/blog/releases/7',
    'HOME': '/home/blog',
}


def test_expanded_names():
    assert EXPANDED_NAMES == ('MODWSGI_APP', 'MODWSGI_APP_ROOT', 'MODWSGI_APP_DATA', 'MODWSGI_APP_CONFIG',
                              'MODWSGI_APP_RELEASE')


@pytest.mark.parametrize('name', EXPANDED_NAMES)
def test_expand_each_name(name):
    assert expand_directories('<${%s}>' % name, ENVIRON) == '<%s>' % ENVIRON[name]


def test_expand_recursively_and_leave_the_rest_alone():
    value = [
        '${MODWSGI_APP_DATA}/packages',
        ('${MODWSGI_APP}-${MODWSGI_APP}', 1, None, b'${MODWSGI_APP}'),
        {'${MODWSGI_APP}': {'${MODWSGI_APP_CONFIG}/x'}, 'n': [2.5, True]},
        '$HOME ${HOME} $MODWSGI_APP ${MODWSGI_APPS} $${MODWSGI_APP} {MODWSGI_APP}',
    ]
    assert expand_directories(value, ENVIRON) == [
        '/srv/blog/data/packages',
        ('blog-blog', 1, None, b'blog'),
        {'blog': {'/etc/blog/x'}, 'n': [2.5, True]},
        '$HOME ${HOME} $MODWSGI_APP ${MODWSGI_APPS} $blog {MODWSGI_APP}',
    ]
    assert expand_directories({'k': ['x']}, {}) == {'k': ['x']}
    assert expand_directories(7, {}) == 7


def test_expand_in_bytes():
    assert expand_directories(b'${MODWSGI_APP_DATA}/hgweb.config', ENVIRON) == b'/srv/blog/data/hgweb.config'
    value = {b'${MODWSGI_APP}': [b'${MODWSGI_APP_ROOT}', (b'${MODWSGI_APP_CONFIG}/x',)],
             'k': {b'${MODWSGI_APP_RELEASE}'}, b'plain': b'$HOME ${HOME} $MODWSGI_APP ${MODWSGI_APPS}'}
    result = expand_directories(value, ENVIRON)
    assert result == {b'blog': [b'/srv/blog', (b'/etc/blog/x',)], 'k': {b'/srv/blog/releases/7'},
                      b'plain': b'$HOME ${HOME} $MODWSGI_APP ${MODWSGI_APPS}'}
    assert all(isinstance(item, bytes) for item in (result[b'blog'][0], result[b'blog'][1][0]))


def test_expand_in_bytes_keeps_bytes_that_are_not_text():
    # Not UTF-8, a NUL, and what looks like an escape: all come back as they were around the expanded name.
    assert expand_directories(b'\xff\x00\\x41${MODWSGI_APP}\xc3', ENVIRON) == b'\xff\x00\\x41blog\xc3'
    assert expand_directories(b'', ENVIRON) == b''


@pytest.mark.parametrize('directory', [u'/srv/caf\u00e9', u'/srv/\udcff\udcfe'])
def test_expand_in_bytes_encodes_as_the_file_system_does(directory):
    # os.environ holds what the operating system gave, decoded with os.fsdecode (surrogateescape for bytes that are
    # not valid in the file system encoding): os.fsencode gives the original bytes back.
    result = expand_directories(b'${MODWSGI_APP_DATA}/x', {'MODWSGI_APP_DATA': directory})
    assert result == os.fsencode(directory) + b'/x'
    if sys.getfilesystemencoding().lower().replace('-', '') == 'utf8':
        assert result == {u'/srv/caf\u00e9': b'/srv/caf\xc3\xa9/x', u'/srv/\udcff\udcfe': b'/srv/\xff\xfe/x'}[directory]


@pytest.mark.parametrize('value', [b'${MODWSGI_APP_HOME}', {b'${MODWSGI_APP_HOME}': 1},
                                   [(b'a', b'${MODWSGI_APP_HOME}')]])
def test_expand_in_bytes_refuses_other_names(value):
    with pytest.raises(ValueError) as excinfo:
        expand_directories(value, ENVIRON)
    assert str(excinfo.value) == ('${MODWSGI_APP_HOME} is not one of the names expanded in entry_point arguments: '
                                  + NAMES)


def test_expand_in_bytes_refuses_names_missing_from_the_environment():
    with pytest.raises(ValueError) as excinfo:
        expand_directories([b'${MODWSGI_APP_DATA}/hgweb.config'], {})
    assert str(excinfo.value).startswith('${MODWSGI_APP_DATA} is not set in the environment')


def test_expand_keeps_the_input_and_its_types():
    value = {'a': ('${MODWSGI_APP}',), 'b': ['${MODWSGI_APP}'], 'c': {'${MODWSGI_APP}'}}
    result = expand_directories(value, ENVIRON)
    assert value == {'a': ('${MODWSGI_APP}',), 'b': ['${MODWSGI_APP}'], 'c': {'${MODWSGI_APP}'}}
    assert [type(result[key]) for key in 'abc'] == [tuple, list, set]


@pytest.mark.parametrize('value, message', [
    (['ok', {'k': '${MODWSGI_APP_HOME}'}],
     '${MODWSGI_APP_HOME} is not one of the names expanded in entry_point arguments: ' + NAMES),
    ('${MODWSGI_APP_}', '${MODWSGI_APP_} is not one of the names expanded in entry_point arguments: ' + NAMES),
    ('${MODWSGI_APP_data}', '${MODWSGI_APP_data} is not one of the names expanded in entry_point arguments: ' + NAMES),
])
def test_expand_refuses_other_names(value, message):
    with pytest.raises(ValueError) as excinfo:
        expand_directories(value, ENVIRON)
    assert str(excinfo.value) == message


def test_expand_refuses_names_missing_from_the_environment():
    environ = dict(ENVIRON)
    del environ['MODWSGI_APP_RELEASE']
    with pytest.raises(ValueError) as excinfo:
        expand_directories(('${MODWSGI_APP_RELEASE}/static',), environ)
    assert str(excinfo.value) == ('${MODWSGI_APP_RELEASE} is not set in the environment; the names expanded in '
                                  'entry_point arguments are ' + NAMES)


def test_expand_takes_os_environ(monkeypatch):
    monkeypatch.setenv('MODWSGI_APP_ROOT', '/srv/x')
    assert expand_directories(['${MODWSGI_APP_ROOT}'], os.environ) == ['/srv/x']


# ---------------------------------------------------------------------------
# load_application
# ---------------------------------------------------------------------------

@pytest.fixture
def apps(tmp_path, monkeypatch):
    """A directory on sys.path for application modules; the modules are forgotten afterwards."""
    root = tmp_path / 'apps'
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in list(sys.modules):
        if name.startswith('wep_'):
            del sys.modules[name]


def write(root, name, source):
    (root / name).write_text(textwrap.dedent(source))


FACTORY = '''\
CALLS = []


def app(environ, start_response):
    return []


class Holder(object):
    wsgi = staticmethod(app)


holder = Holder()
settings = {"debug": True}


def create_app(*args, **kwargs):
    CALLS.append((args, kwargs))
    return app


def nothing():
    CALLS.append("nothing")


def text():
    return "not an app"
'''


def test_load_a_callable(apps):
    write(apps, 'wep_app.py', FACTORY)
    module = __import__('wep_app')
    assert load_application('wep_app:app', {}) is module.app
    assert load_application('wep_app:holder.wsgi', {}) is module.app
    assert module.CALLS == []


def test_load_calls_the_factory_once_with_its_arguments(apps):
    write(apps, 'wep_app.py', FACTORY)
    module = __import__('wep_app')
    assert load_application('wep_app:create_app()', {}) is module.app
    assert load_application('wep_app:create_app("prod", ["${MODWSGI_APP_DATA}"], debug=False, '
                            'm={"${MODWSGI_APP}": ("${MODWSGI_APP_ROOT}",)})', ENVIRON) is module.app
    assert module.CALLS == [((), {}),
                            (('prod', ['/srv/blog/data']), {'debug': False, 'm': {'blog': ('/srv/blog',)}})]


def test_load_expands_bytes_arguments(apps):
    write(apps, 'wep_app.py', FACTORY)
    module = __import__('wep_app')
    assert load_application('wep_app:create_app(b"${MODWSGI_APP_DATA}/hgweb.config", '
                            'm={b"${MODWSGI_APP}": [b"${MODWSGI_APP_ROOT}", "${MODWSGI_APP}"]})', ENVIRON) is module.app
    assert module.CALLS == [((b'/srv/blog/data/hgweb.config',), {'m': {b'blog': [b'/srv/blog', 'blog']}})]


def test_load_in_a_package(apps):
    (apps / 'wep_pkg').mkdir()
    write(apps, 'wep_pkg/__init__.py', '')
    write(apps, 'wep_pkg/factory.py', FACTORY)
    assert load_application('wep_pkg.factory:create_app(1)', {}).__name__ == 'app'
    assert sys.modules['wep_pkg.factory'].CALLS == [((1,), {})]


@pytest.mark.parametrize('text, exception, message', [
    ('wep_app:application', AttributeError, "'wep_app' has no attribute 'application'"),
    ('wep_app:holder.missing()', AttributeError, "'wep_app:holder' has no attribute 'missing'"),
    ('wep_app:settings', TypeError, "'wep_app:settings' is a dict, not a callable"),
    ('wep_app:settings()', TypeError, "'wep_app:settings' is a dict, not a callable"),
    ('wep_app:nothing()', TypeError,
     "the factory 'wep_app:nothing' returned NoneType, not a WSGI callable (does it end with 'return app'?)"),
    ('wep_app:text()', TypeError, "the factory 'wep_app:text' returned str, not a WSGI callable"),
    ('wep_app:create_app("${MODWSGI_APP_CONFIG}")', ValueError,
     '${MODWSGI_APP_CONFIG} is not set in the environment; the names expanded in entry_point arguments are ' + NAMES),
    ('wep_app:create_app(x)', ValueError, "entry_point 'wep_app:create_app(x)' must be"),
    ('wep_missing:app', ImportError, "No module named 'wep_missing'"),
])
def test_load_failures(apps, text, exception, message):
    write(apps, 'wep_app.py', FACTORY)
    with pytest.raises(exception) as excinfo:
        load_application(text, {'MODWSGI_APP': 'blog'})
    assert str(excinfo.value).startswith(message)


def test_load_checks_the_arguments_before_importing(apps):
    write(apps, 'wep_side_effect.py', 'raise RuntimeError("imported")\n')
    with pytest.raises(ValueError):
        load_application('wep_side_effect:make("${MODWSGI_APP_DATA}")', {})
    assert 'wep_side_effect' not in sys.modules


def test_load_lets_the_factory_errors_through(apps):
    write(apps, 'wep_fail.py', 'def make():\n    raise KeyError("SECRET_KEY")\n')
    with pytest.raises(KeyError):
        load_application('wep_fail:make()', {})


# ---------------------------------------------------------------------------
# The file: shipped to the check process and inlined into .wsgi files
# ---------------------------------------------------------------------------

def test_file_is_ascii_and_safe_to_inline_into_a_template():
    text = read_loader_file().decode('ascii')
    for marker in ('{{', '{%', '{#'):
        assert marker not in text


@pytest.mark.parametrize('version', [(3, 6), (3, 7), (3, 8)])
def test_file_is_valid_for_old_pythons(version):
    ast.parse(read_loader_file(), LOADER_FILE, feature_version=version)


def test_file_imports_only_the_standard_library_and_runs_nothing():
    tree = ast.parse(read_loader_file(), LOADER_FILE)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'relative import on line %d' % node.lineno
            names.add(node.module.split('.')[0])
    assert names == {'__future__', 'ast', 'importlib', 'os', 're'}
    assert [type(node).__name__ for node in tree.body if isinstance(node, (ast.Expr, ast.If))] == ['Expr']  # docstring
    assert '__main__' not in read_loader_file().decode('ascii')


def test_file_works_as_standalone_source(apps):
    write(apps, 'wep_app.py', FACTORY)
    namespace = {'__name__': 'inlined'}
    exec(compile(read_loader_file(), 'app.wsgi', 'exec'), namespace)
    assert set(['parse_entry_point', 'expand_directories', 'load_application', 'EXPANDED_NAMES']) <= set(namespace)
    assert namespace['load_application']('wep_app:create_app(n="${MODWSGI_APP}", b=b"${MODWSGI_APP}")',
                                         ENVIRON).__name__ == 'app'
    assert sys.modules['wep_app'].CALLS == [((), {'n': 'blog', 'b': b'blog'})]


OTHER_PYTHON_PROBE = '''
import json, sys
namespace = {"__name__": "probe"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
results = []
for text in json.loads(sys.argv[2]):
    try:
        parsed = namespace["parse_entry_point"](text)
        results.append(repr(namespace["expand_directories"]([parsed["args"], parsed["kwargs"]], {"MODWSGI_APP": "a"})))
    except ValueError as exc:
        results.append(str(exc).split("; ", 1)[1])
print(json.dumps(results))
'''

PROBED = ['x:f()', 'x:f(-1, 2.5, "${MODWSGI_APP}", b"b", None, True, (1,), {1}, {"k": [()]}, y=[1])',
          'x:f(a)', 'x:f(a.b)', 'x:f(g())', 'x:f(*a)', 'x:f(**a)', 'x:f(a=1, a=2)', 'x:f()()', 'x:f(', 'x',
          'x:f("${MODWSGI_APP_X}")', 'x:f([x for x in y])', 'x:f(b"${MODWSGI_APP}/x", {b"${MODWSGI_APP}": b"\\xff"})',
          'x:f(b"${MODWSGI_APP_X}")']


@pytest.mark.parametrize('python', other_pythons() or [None])
def test_file_under_other_pythons(python):
    if python is None:
        pytest.skip('no other python3.X in PATH or WSGI_CHECK_TEST_PYTHONS')
    probe = subprocess.run([python, '-c', OTHER_PYTHON_PROBE, LOADER_FILE, json.dumps(PROBED)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    if probe.returncode != 0 and b'pyenv' in probe.stderr:
        pytest.skip('%s does not run (a pyenv shim of a version that is not selected?)' % python)
    assert probe.returncode == 0, probe.stderr
    here = subprocess.run([sys.executable, '-c', OTHER_PYTHON_PROBE, LOADER_FILE, json.dumps(PROBED)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
    assert [normalize(result) for result in json.loads(probe.stdout.decode())] == \
        [normalize(result) for result in json.loads(here.stdout.decode())]


def normalize(result):
    """What must not differ between Python versions: the messages of older ones do not quote the argument (no
    ast.get_source_segment before 3.8), and the parser's own messages vary (3.6 refuses a repeated keyword itself)."""
    result = re.sub(r'^(argument \d+) \(.*\) is ', r'\1 is ', result)
    result = re.sub(r'^(in argument \d+) \(.*\), ', r'\1, ', result)
    if result.startswith('the call is not valid Python') or result.endswith('is given twice.'):
        return 'refused by the parser or as a repeated keyword'
    return result


# ---------------------------------------------------------------------------
# The app role's .wsgi template: rendered by Ansible, the loader inlined, run
# ---------------------------------------------------------------------------

RENDER_PLAY = '''
- hosts: localhost
  gather_facts: false
  connection: local
  vars:
    role_path: %(role)s
    __modwsgi_app_release_marker: .modwsgi-release
    app:
      name: blog
      entry_point: %(entry_point)s
      mount: /
      _current: %(current)s
      _env_file: %(env_file)s
      _secret_file: %(secret_file)s
  tasks:
    - ansible.builtin.template:
        src: %(role)s/templates/app.wsgi.j2
        dest: %(dest)s
'''


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    """The .wsgi file of an app whose entry point is a factory with arguments, rendered by ansible-playbook."""
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    if not os.access(playbook, os.X_OK):
        pytest.skip('ansible-playbook is not installed next to %s' % sys.executable)
    top = tmp_path_factory.mktemp('wsgi')
    paths = dict((name, str(top / name)) for name in ('current', 'env.json', 'secret.json', 'app.wsgi', 'src'))
    (top / 'current').mkdir()
    (top / 'src').mkdir()
    (top / 'src' / 'blog.py').write_text(textwrap.dedent('''\
        import os
        CALLS = []

        def create_app(mode, roots=(), secret=None):
            CALLS.append((mode, roots, os.environ.get("SECRET")))
            def app(environ, start_response):
                start_response("200 OK", [])
                return [mode.encode()]
            return app
        '''))
    (top / 'env.json').write_text(json.dumps({'MODWSGI_APP': 'blog', 'MODWSGI_APP_DATA': '/srv/blog/data'}))
    (top / 'secret.json').write_text(json.dumps({'SECRET': 's3cr3t'}))
    entry_point = 'blog:create_app("prod", roots=["${MODWSGI_APP_DATA}/packages", "it\'s \\\\ $HOME"])'
    (top / 'play.yml').write_text(RENDER_PLAY % dict(
        role=os.path.join(COLLECTION_ROOT, 'roles', 'app'), entry_point=json.dumps(entry_point),
        current=paths['current'], env_file=paths['env.json'], secret_file=paths['secret.json'],
        dest=paths['app.wsgi']))
    (top / 'ansible.cfg').write_text(u'# empty: no ansible.cfg of the caller applies\n')
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env.pop('PYTHONPATH', None)
    env.update(ANSIBLE_CONFIG=str(top / 'ansible.cfg'), ANSIBLE_LOCAL_TEMP=str(top / 'local'),
               ANSIBLE_REMOTE_TEMP=str(top / 'remote'), ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([playbook, '-i', 'localhost,', '-e', 'ansible_python_interpreter=%s' % sys.executable,
                           str(top / 'play.yml')], cwd=str(top), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout.decode('utf-8', 'replace')
    paths['entry_point'] = entry_point
    return paths


RUN_WSGI = '''
import json, runpy, sys
sys.path.insert(0, sys.argv[2])
namespace = runpy.run_path(sys.argv[1])
application = namespace["application"]
body = b"".join(application({}, lambda status, headers: None))
print(json.dumps({"name": application.__name__, "body": body.decode(), "calls": sys.modules["blog"].CALLS}))
'''


def run_wsgi(rendered):
    proc = subprocess.run([sys.executable, '-B', '-c', RUN_WSGI, rendered['app.wsgi'], rendered['src']],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode('utf-8', 'replace')
    return json.loads(proc.stdout.decode())


def test_template_inlines_the_loader_and_no_longer_knows_embedded_mode(rendered):
    with open(os.path.join(COLLECTION_ROOT, 'roles', 'app', 'templates', 'app.wsgi.j2')) as handle:
        template = handle.read()
    assert 'app.mode' not in template and 'python_version' not in template and 'embedded' not in template
    with open(rendered['app.wsgi']) as handle:
        text = handle.read()
    compile(text, rendered['app.wsgi'], 'exec')
    assert read_loader_file().decode('ascii').rstrip('\n') in text
    assert 'site.addsitedir' not in text


def test_rendered_file_calls_the_factory_of_the_templated_entry_point(rendered):
    marker = os.path.join(rendered['current'], '.modwsgi-release')
    if os.path.exists(marker):
        os.unlink(marker)
    result = run_wsgi(rendered)
    assert result == {'name': 'app', 'body': 'prod',
                      'calls': [['prod', ['/srv/blog/data/packages', "it's \\ $HOME"], 's3cr3t']]}


def test_rendered_file_prefers_the_entry_point_of_the_release_marker(rendered):
    marker = os.path.join(rendered['current'], '.modwsgi-release')
    try:
        with open(marker, 'w') as handle:
            handle.write('blog:create_app("${MODWSGI_APP}")\n')
        assert run_wsgi(rendered)['calls'] == [['blog', [], 's3cr3t']]
        with open(marker, 'w') as handle:
            handle.write('\n')
        assert run_wsgi(rendered)['calls'][0][0] == 'prod'
    finally:
        os.unlink(marker)
