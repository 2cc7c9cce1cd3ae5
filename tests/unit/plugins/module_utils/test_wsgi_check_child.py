# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check process of wsgi_check (plugins/module_utils/wsgi_check_child.py).

Its functions are tested in-process here (so coverage sees them), its shipping with the module -- source read
from the file, from a zip as AnsiballZ builds it and through a real AnsiballZ run -- and the script itself once
as a process. The module's own tests (tests/unit/plugins/modules/test_wsgi_check.py) run it through main().
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import io
import json
import os
import py_compile
import shutil
import subprocess
import sys
import textwrap
import traceback
import zipfile

import pytest

from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_check_child as child
from ansible_collections.modwsgi.deploy.plugins.modules import wsgi_check

CHILD_FILE = child.__file__
LOADER_FILE = os.path.join(os.path.dirname(CHILD_FILE), child.LOADER_FILE)
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(CHILD_FILE))))


def read_child_file():
    with open(CHILD_FILE, 'rb') as handle:
        return handle.read()


def read_loader_file():
    with open(LOADER_FILE, 'rb') as handle:
        return handle.read()


def write_script(directory):
    """Write the check's program and the loader next to it, as the module does. Returns the script's path."""
    (directory / child.LOADER_FILE).write_bytes(read_loader_file())
    script = directory / 'wsgi_check_child.py'
    script.write_bytes(read_child_file())
    return script


# ---------------------------------------------------------------------------
# The file: what the app's interpreter must be able to run
# ---------------------------------------------------------------------------

def test_child_file_is_ascii():
    read_child_file().decode('ascii')


@pytest.mark.parametrize('version', [(3, 6), (3, 7), (3, 8)])
def test_child_file_is_valid_for_old_pythons(version):
    ast.parse(read_child_file(), CHILD_FILE, feature_version=version)


def test_child_imports_only_the_standard_library():
    names = set()
    for node in ast.walk(ast.parse(read_child_file(), CHILD_FILE)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'relative import on line %d' % node.lineno
            names.add(node.module.split('.')[0])
    assert 'ansible' not in names and 'ansible_collections' not in names
    if hasattr(sys, 'stdlib_module_names'):  # Python 3.10+
        assert names <= set(sys.stdlib_module_names), names - set(sys.stdlib_module_names)


def test_child_runs_main_only_as_a_script():
    tree = ast.parse(read_child_file(), CHILD_FILE)
    calls = [node for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    assert calls == []
    last = tree.body[-1]
    assert isinstance(last, ast.If) and child.main_guard(last.test) == 'body'


# ---------------------------------------------------------------------------
# Shipping: the module reads the file's source, wherever the module was imported from
# ---------------------------------------------------------------------------

def test_child_source_is_the_file():
    assert wsgi_check.child_source() == read_child_file()
    assert wsgi_check.loader_source() == read_loader_file()


def test_loader_is_the_module_utils_file_next_to_the_child():
    assert child.LOADER_FILE == os.path.basename(wsgi_check.wsgi_entry_point.__file__)
    assert os.path.realpath(LOADER_FILE) == os.path.realpath(wsgi_check.wsgi_entry_point.__file__)
    assert child.entry_point_loader().__file__ == LOADER_FILE


class _Loader(object):
    def __init__(self, outcome):
        self.outcome = outcome

    def get_data(self, path):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize('outcome, fragment', [
    (IOError(2, 'No such file or directory'), 'No such file or directory'),
    (None, 'it is missing or empty'),
    (b'', 'it is missing or empty'),
])
def test_child_source_that_cannot_be_read(monkeypatch, outcome, fragment):
    monkeypatch.setattr(child.__spec__, 'loader', _Loader(outcome))
    with pytest.raises(wsgi_check.CheckFailed) as excinfo:
        wsgi_check.child_source()
    assert excinfo.value.stage == 'setup'
    assert CHILD_FILE in excinfo.value.msg and fragment in excinfo.value.msg


ZIP_PROBE = '''
import sys, zipimport
sys.path.insert(0, sys.argv[1])
from ansible_collections.modwsgi.deploy.plugins.modules import wsgi_check
from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_check_child
assert isinstance(wsgi_check_child.__spec__.loader, zipimport.zipimporter), wsgi_check_child.__spec__.loader
assert wsgi_check_child.__file__.startswith(sys.argv[1] + "/"), wsgi_check_child.__file__
assert wsgi_check.wsgi_entry_point.__file__.startswith(sys.argv[1] + "/"), wsgi_check.wsgi_entry_point.__file__
sys.stdout.buffer.write(wsgi_check.child_source() + b"\\0" + wsgi_check.loader_source())
'''


def test_child_source_from_a_zip_like_ansiballz(tmp_path):
    """AnsiballZ runs the module from a zip (zipimport) that has an __init__.py in every package."""
    payload = tmp_path / 'ansible_wsgi_check_payload.zip'
    package = 'ansible_collections/modwsgi/deploy/plugins'
    with zipfile.ZipFile(str(payload), 'w') as archive:
        for index in range(1, 5):
            archive.writestr('/'.join(package.split('/')[:index]) + '/__init__.py', b'')
        for sub in ('modules', 'module_utils'):
            archive.writestr('%s/%s/__init__.py' % (package, sub), b'')
        for sub, name in (('modules', 'wsgi_check.py'), ('module_utils', 'wsgi_check_child.py'),
                          ('module_utils', 'wsgi_entry_point.py'), ('module_utils', 'run_as.py')):
            archive.write(os.path.join(COLLECTION_ROOT, 'plugins', sub, name), '%s/%s/%s' % (package, sub, name))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([sys.executable, '-c', ZIP_PROBE, str(payload)], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode('utf-8', 'replace')
    assert proc.stdout == read_child_file() + b'\0' + read_loader_file()


def test_module_runs_the_child_through_ansiballz(tmp_path):
    """A real ad hoc run: the module_utils files must be in the AnsiballZ payload for the check to work."""
    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    if not os.access(ansible, os.X_OK):
        pytest.skip('ansible is not installed next to %s' % sys.executable)
    tree = tmp_path / 'collections'
    (tree / 'ansible_collections' / 'modwsgi').mkdir(parents=True)
    os.symlink(COLLECTION_ROOT, str(tree / 'ansible_collections' / 'modwsgi' / 'deploy'))
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'hello.py').write_text(textwrap.dedent('''\
        def create(greeting, data=None):
            def app(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain"), ("X-Data", data)])
                return [greeting.encode()]
            return app
        '''))
    config = tmp_path / 'ansible.cfg'
    config.write_text(u'# empty: no ansible.cfg of the caller applies\n')
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith('ANSIBLE_'))
    env.pop('PYTHONPATH', None)
    # The caller's collections stay behind the tree: the json callback is ansible.posix's, which an
    # ansible-core without the `ansible` package (make versions) finds only there.
    collections = [str(tree)] + [path for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if path]
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(collections),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / 'local'),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / 'remote'),
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_STDOUT_CALLBACK='json',
        ANSIBLE_NOCOLOR='1',
    )
    args = {'python': sys.executable, 'entry_point': 'hello:create("hello", data="${MODWSGI_APP_DATA}/x")',
            'python_path': [str(src)], 'chdir': str(src), 'env': {'MODWSGI_APP_DATA': '/srv/data'}}
    proc = subprocess.run(
        [ansible, 'all', '-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
         '-m', 'modwsgi.deploy.wsgi_check', '-a', json.dumps(args)],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, check=False)
    output = proc.stdout.decode('utf-8', 'replace')
    assert proc.returncode == 0, output + proc.stderr.decode('utf-8', 'replace')
    result = json.loads(output)['plays'][0]['tasks'][0]['hosts']['localhost']
    assert result['status'] == '200 OK' and result['body_bytes'] == 5, result
    assert ['X-Data', '/srv/data/x'] in result['headers']
    assert result['entry_file'] == str(src / 'hello.py')


# ---------------------------------------------------------------------------
# The script as a process (the module tests run it through main() too)
# ---------------------------------------------------------------------------

def test_script_protocol(tmp_path):
    script = write_script(tmp_path)
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'hello.py').write_text(textwrap.dedent('''\
        import sys
        print("stdout belongs to the application", sys.argv)

        def app(environ, start_response):
            start_response("201 Created", [("X-Stdin", repr(sys.stdin.read()))])
            return [b"ok"]
        '''))
    params = {'entry_point': 'hello:app', 'python_path': [str(src)], 'cwd': str(src), 'env': {},
              'request': dict(REQUEST)}
    result_path = tmp_path / 'result.json'
    proc = subprocess.run([sys.executable, '-B', str(script), str(result_path)], input=json.dumps(params).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"stdout belongs to the application ['mod_wsgi']\n"
    result = json.loads(result_path.read_text())
    assert result['done'] is True and result['stage'] == 'call'
    assert result['status'] == '201 Created' and result['headers'] == [['X-Stdin', "''"]]
    assert result['python_version'] == '%d.%d' % sys.version_info[:2]
    assert result['entry_file'] == str(src / 'hello.py')
    assert set(result['elapsed']) == {'import', 'call'}
    assert not os.path.exists(str(result_path) + '.tmp')


def other_pythons():
    """Interpreters to run the script with besides this one: python3.6 ... python3.14 found in PATH, and the paths
    in WSGI_CHECK_TEST_PYTHONS (separated by os.pathsep)."""
    found = [shutil.which('python3.%d' % minor) for minor in range(6, 15)]
    found += [path for path in os.environ.get('WSGI_CHECK_TEST_PYTHONS', '').split(os.pathsep) if path]
    return [path for path in found if path]


@pytest.mark.parametrize('python', other_pythons() or [None])
def test_script_under_other_pythons(tmp_path, python):
    if python is None:
        pytest.skip('no other python3.X in PATH or WSGI_CHECK_TEST_PYTHONS')
    probe = subprocess.run([python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    if probe.returncode != 0:
        pytest.skip('%s does not run (a pyenv shim of a version that is not selected?)' % python)
    version = probe.stdout.decode().strip()
    script = write_script(tmp_path)
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'hello.py').write_text(u'def app(environ, start_response):\n    start_response("200 OK", [])\n'
                                  u'    return [b"hi"]\n\ndef make(body, status="200 OK"):\n'
                                  u'    def app(environ, start_response):\n        start_response(status, [])\n'
                                  u'        return [body]\n    return app\n')
    (src / 'served.py').write_text(u'import flask\napp = flask.Flask(__name__)\napp.run()\n')
    outcomes = {}
    entry_points = {'hello': 'hello:app', 'served': 'served:app', 'missing': 'missing:app',
                    'factory': 'hello:make(b"made", status="201 Created")',
                    'expanded': 'hello:make(b"${MODWSGI_APP}")',
                    'not_loaded': 'hello:make(b"${MODWSGI_APP_DATA}")'}
    for module, entry_point in entry_points.items():
        params = {'entry_point': entry_point, 'python_path': [str(src)], 'cwd': str(src),
                  'env': {'MODWSGI_APP': 'blog'},
                  'request': None if module == 'not_loaded' else dict(REQUEST), 'load': module != 'not_loaded'}
        result_path = tmp_path / ('%s.json' % module)
        proc = subprocess.run([python, '-B', str(script), str(result_path)], input=json.dumps(params).encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout
        outcomes[module] = json.loads(result_path.read_text())
    assert all(result['python_version'] == version and result['done'] for result in outcomes.values())
    assert outcomes['hello']['status'] == '200 OK'
    assert outcomes['factory']['status'] == '201 Created' and outcomes['factory']['body_bytes'] == 4
    assert outcomes['expanded']['status'] == '200 OK' and outcomes['expanded']['body_bytes'] == len(b'blog')
    assert outcomes['not_loaded']['stage'] == 'import' and not outcomes['not_loaded'].get('failed')
    text = 'app.run()' if tuple(int(part) for part in version.split('.')) >= (3, 8) else 'run()'  # get_source_segment
    assert outcomes['served']['run_calls'] == [{'file': str(src / 'served.py'), 'line': 3, 'call': text}]
    assert outcomes['missing']['not_found'] is True


# ---------------------------------------------------------------------------
# In-process: progress reports
# ---------------------------------------------------------------------------

@pytest.fixture
def state(monkeypatch):
    monkeypatch.setattr(child, '_STATE', {})
    monkeypatch.setattr(child, '_RESULT_PATH', None)
    return child._STATE


def test_report_without_a_result_file_only_records(state):
    child.report(stage='setup')
    child.report(stage='scan', entry_file='x.py')
    assert state == {'stage': 'scan', 'entry_file': 'x.py'}


def test_report_rewrites_the_result_file(tmp_path, monkeypatch, state):
    path = str(tmp_path / 'result.json')
    monkeypatch.setattr(child, '_RESULT_PATH', path)
    child.report(stage='setup', warnings=[])
    with open(path) as handle:
        assert json.load(handle) == {'stage': 'setup', 'warnings': []}
    child.report(stage='import')
    with open(path) as handle:
        assert json.load(handle) == {'stage': 'import', 'warnings': []}
    assert sorted(os.listdir(str(tmp_path))) == ['result.json']


# ---------------------------------------------------------------------------
# In-process: the scan for run() calls
# ---------------------------------------------------------------------------

def guard(expression):
    return child.main_guard(ast.parse(expression, mode='eval').body)


@pytest.mark.parametrize('expression, expected', [
    ('__name__ == "__main__"', 'body'),
    ('__name__ is "__main__"', 'body'),
    ('"__main__" != __name__', 'orelse'),
    ('__name__ is not "__main__"', 'orelse'),
    ('not __name__ != "__main__"', 'body'),
    ('not not __name__ == "__main__"', 'body'),
    ('__name__ == "__main__" and DEBUG and x', 'body'),
    ('__name__ != "__main__" and DEBUG', None),
    ('__name__ < "__main__"', None),
    ('__name__ == "__main__" == x', None),
    ('__name__ in ("__main__",)', None),
    ('__name__ == 1', None),
    ('not DEBUG', None),
    ('DEBUG', None),
])
def test_main_guard_forms(expression, expected):
    assert guard(expression) == expected


def test_find_run_calls_in_defaults_and_decorators():
    source = textwrap.dedent('''\
        def view(start=app.run()):
            app.run()

        async def handler(*, start=app.run(), other=None):
            app.run()

        @app.run
        def plain():
            pass

        @server.run(port=1)
        class Resource(object):
            pass

        key = lambda value=app.run(): app.run()
        ''')
    assert [line for line, dummy in child.find_run_calls(source)] == [1, 4, 11, 15]


def test_find_run_calls_shortens_long_receivers():
    source = 'make_application_with_a_very_long_name(first_argument, second_argument).run()\n'
    ((line, text),) = child.find_run_calls(source)
    assert line == 1
    assert text.startswith('...') and text.endswith('.run()')
    assert len(text) == 62


def test_find_run_calls_without_source_segments(monkeypatch):
    def broken(source, node):
        raise ValueError('no segment')

    monkeypatch.setattr(ast, 'get_source_segment', broken)
    assert child.find_run_calls('app.run()\n', 'x.py') == [(1, 'run()')]


def test_find_run_calls_reports_the_file_name_of_syntax_errors():
    with pytest.raises(SyntaxError) as excinfo:
        child.find_run_calls('app.run(\n', '/srv/app.py')
    assert excinfo.value.filename == '/srv/app.py'


def test_scan_files_decodes_declared_encodings(tmp_path):
    latin = tmp_path / 'latin.py'
    latin.write_bytes(b'# -*- coding: latin-1 -*-\nname = "\xe9"\napp.run()\n')
    undecodable = tmp_path / 'undecodable.py'
    undecodable.write_bytes(b'name = "\xff"\napp.run()\n')
    directory = tmp_path / 'directory.py'
    directory.mkdir()
    guarded = tmp_path / 'guarded.py'
    guarded.write_text(u'if __name__ == "__main__":\n    app.run()\n')
    assert child.scan_files([str(latin), str(undecodable), str(directory), str(guarded)]) == [
        {'file': str(latin), 'line': 3, 'call': 'app.run()'}]
    assert child.scan_files([]) == []


# ---------------------------------------------------------------------------
# In-process: locating the entry module without running it
# ---------------------------------------------------------------------------

@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A directory for application files; sys.path, sys.argv, the cwd, os.environ and sys.modules are restored."""
    root = tmp_path / 'apps'
    root.mkdir()
    monkeypatch.setattr(sys, 'path', [str(root)] + sys.path)
    monkeypatch.setattr(sys, 'argv', list(sys.argv))
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setattr(child, '_STATE', {})
    monkeypatch.setattr(child, '_RESULT_PATH', None)
    environ = dict(os.environ)
    importlib.invalidate_caches()
    yield root
    for name, module in list(sys.modules.items()):
        if str(getattr(module, '__file__', None) or '').startswith(str(tmp_path)) or name.startswith('wcc_'):
            del sys.modules[name]
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update(environ)
    importlib.invalidate_caches()


def write(root, files):
    for name, text in files.items():
        path = root / name
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        path.write_text(textwrap.dedent(text))
    importlib.invalidate_caches()


def test_locate_a_nested_module_without_importing_it(sandbox):
    write(sandbox, {
        'wcc_pkg/__init__.py': 'raise RuntimeError("the package must not run")\n',
        'wcc_pkg/sub/__init__.py': 'raise RuntimeError("the subpackage must not run")\n',
        'wcc_pkg/sub/wsgi.py': 'raise RuntimeError("the module must not run")\n',
    })
    spec, parents = child.locate('wcc_pkg.sub.wsgi')
    assert spec.origin == str(sandbox / 'wcc_pkg' / 'sub' / 'wsgi.py')
    assert [parent.name for parent in parents] == ['wcc_pkg', 'wcc_pkg.sub']
    assert [child._source_file(parent) for parent in parents] == [
        str(sandbox / 'wcc_pkg' / '__init__.py'), str(sandbox / 'wcc_pkg' / 'sub' / '__init__.py')]
    assert not [name for name in sys.modules if name.startswith('wcc_pkg')]


def test_locate_in_a_namespace_package(sandbox):
    write(sandbox, {'wcc_ns/wsgi.py': 'app = None\n'})
    spec, parents = child.locate('wcc_ns.wsgi')
    assert child._source_file(spec) == str(sandbox / 'wcc_ns' / 'wsgi.py')
    assert [parent.name for parent in parents] == ['wcc_ns']
    assert child._source_file(parents[0]) is None


@pytest.mark.parametrize('name', ['wcc_missing', 'wcc_missing.wsgi', 'wcc_plain.wsgi', 'wcc_pkg.missing'])
def test_locate_missing_modules(sandbox, name):
    write(sandbox, {'wcc_plain.py': 'x = 1\n', 'wcc_pkg/__init__.py': ''})
    assert child.locate(name) == (None, [])


def test_locate_reraises_import_errors_of_parent_packages(sandbox):
    write(sandbox, {'wcc_broken/__init__.py': 'import wcc_not_installed\n'})
    with pytest.raises(ImportError) as excinfo:
        child.locate('wcc_broken.wsgi')
    assert excinfo.value.name == 'wcc_not_installed'


class _EditableFinder(object):
    """Knows one module, as the finders of editable installs do."""

    def __init__(self, name, path):
        self.name = name
        self.path = path

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path)


def test_locate_falls_back_to_custom_finders(sandbox, tmp_path):
    elsewhere = tmp_path / 'elsewhere.py'
    elsewhere.write_text(u'app.run()\n')
    sys.meta_path.append(_EditableFinder('wcc_editable', str(elsewhere)))
    spec, parents = child.locate('wcc_editable')
    assert spec.origin == str(elsewhere)
    assert parents == []


def test_source_file_of_other_specs():
    class Spec(object):
        def __init__(self, origin, has_location):
            self.origin = origin
            self.has_location = has_location

    assert child._source_file(Spec('/x/mod.py', True)) == '/x/mod.py'
    assert child._source_file(Spec('/x/mod.pyc', True)) is None
    assert child._source_file(Spec('/x/mod.cpython-311-x86_64-linux-gnu.so', True)) is None
    assert child._source_file(Spec('built-in', False)) is None
    assert child._source_file(object()) is None


# ---------------------------------------------------------------------------
# In-process: tracebacks and failures
# ---------------------------------------------------------------------------

def test_exception_summary():
    assert child.exception_summary(ValueError('bad value')) == 'ValueError: bad value'
    assert child.exception_summary(SystemExit(3)) == 'SystemExit: 3'
    assert child.exception_summary(KeyError('k')) == "KeyError: 'k'"


def test_failure():
    assert child.failure('import', 'boom', exception='X') == {'failed': True, 'stage': 'import', 'msg': 'boom',
                                                              'exception': 'X'}


def test_traceback_tail_drops_the_frames_of_the_check(sandbox):
    write(sandbox, {'wcc_tb.py': '''\
        def inner():
            raise ValueError("from the application")

        try:
            inner()
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc
        '''})
    application, problem = child.load_application(child.entry_point_loader(), 'wcc_tb:app', 'wcc_tb')
    assert application is None
    text = '\n'.join(problem['traceback_tail'])
    assert 'wcc_tb.py' in text and 'ValueError: from the application' in text
    assert 'RuntimeError: wrapped' in text
    assert CHILD_FILE not in text and '<frozen importlib' not in text
    assert importlib.__file__ not in text


def test_traceback_tail_drops_the_frames_of_the_loader(sandbox):
    write(sandbox, {'wcc_tbf.py': '''\
        def create():
            raise ValueError("from the factory")
        '''})
    application, problem = child.load_application(child.entry_point_loader(), 'wcc_tbf:create()', 'wcc_tbf')
    assert application is None and problem['loading'] is True
    text = '\n'.join(problem['traceback_tail'])
    assert 'wcc_tbf.py' in text and 'ValueError: from the factory' in text
    assert LOADER_FILE not in text and CHILD_FILE not in text


def test_traceback_tail_keeps_the_frames_of_the_check_on_request():
    with pytest.raises(TypeError) as excinfo:
        child.find_run_calls(None)
    kept = '\n'.join(child.traceback_tail(excinfo.value, application=False))
    dropped = '\n'.join(child.traceback_tail(excinfo.value))
    assert 'File "%s"' % CHILD_FILE in kept and 'in find_run_calls' in kept
    assert CHILD_FILE not in dropped
    assert os.path.basename(__file__) in dropped
    assert kept.splitlines()[-1] == dropped.splitlines()[-1]


def test_traceback_tail_is_limited():
    with pytest.raises(ValueError) as excinfo:
        raise ValueError('\n'.join('line %d' % index for index in range(30)))
    lines = child.traceback_tail(excinfo.value)
    assert lines == ['line %d' % index for index in range(10, 30)]
    assert len(lines) == child.TRACEBACK_LINES


def test_traceback_tail_survives_a_failure_to_filter(monkeypatch):
    def broken(summary, depth=0):
        raise RuntimeError('filter failed')

    monkeypatch.setattr(child, '_drop_internal_frames', broken)
    assert child.traceback_tail(ValueError('plain')) == ['ValueError: plain']


def test_drop_internal_frames_stops_after_twenty_chained_exceptions():
    def raised():
        try:
            child.find_run_calls(None)  # raises in a frame of the check, then in ast.parse
        except TypeError as caught:
            return caught

    chained = [raised() for dummy in range(30)]
    for exc, context in zip(chained[1:], chained):
        exc.__context__ = context
    summary = traceback.TracebackException(type(chained[-1]), chained[-1], chained[-1].__traceback__)
    chain = [summary]
    while chain[-1].__context__ is not None:
        chain.append(chain[-1].__context__)
    assert len(chain) == 30 and all(len(item.stack) == 3 for item in chain)
    child._drop_internal_frames(summary)
    assert [len(item.stack) for item in chain] == [2] * 21 + [3] * 9


# ---------------------------------------------------------------------------
# In-process: importing the entry point
# ---------------------------------------------------------------------------

def load(entry_point, call_factory=True):
    return child.load_application(child.entry_point_loader(), entry_point, entry_point.split(':')[0],
                                  call_factory=call_factory)


def test_load_application(sandbox):
    write(sandbox, {'wcc_good/__init__.py': '', 'wcc_good/wsgi.py': '''\
        class Holder(object):
            def application(self, environ, start_response):
                return []

        holder = Holder()
        '''})
    application, problem = load('wcc_good.wsgi:holder.application')
    assert problem is None
    assert application.__name__ == 'application'


def test_load_application_calls_the_factory_once_with_expanded_arguments(sandbox, monkeypatch):
    monkeypatch.setenv('MODWSGI_APP_DATA', '/srv/blog/data')
    write(sandbox, {'wcc_factory.py': '''\
        CALLS = []

        def create_app(name, roots=(), debug=True):
            CALLS.append((name, roots, debug))
            def app(environ, start_response):
                return []
            return app
        '''})
    application, problem = load('wcc_factory:create_app("prod", roots=["${MODWSGI_APP_DATA}/packages"], debug=False)')
    assert problem is None and application.__name__ == 'app'
    assert sys.modules['wcc_factory'].CALLS == [('prod', ['/srv/blog/data/packages'], False)]


@pytest.mark.parametrize('source, entry_point, expected', [
    ('raise SystemExit(2)\n', 'wcc_load:app',
     {'msg': 'SystemExit: 2', 'exception': 'SystemExit'}),
    ('import wcc_not_installed\n', 'wcc_load:app',
     {'msg': "ModuleNotFoundError: No module named 'wcc_not_installed'", 'exception': 'ModuleNotFoundError'}),
    ('app = None\n', 'wcc_load:application',
     {'msg': "'wcc_load' has no attribute 'application'", 'wrong_entry_point': True}),
    ('class App(object):\n    pass\napp = App()\n', 'wcc_load:app.wsgi_app',
     {'msg': "'wcc_load:app' has no attribute 'wsgi_app'", 'wrong_entry_point': True}),
    ('app = {}\n', 'wcc_load:app',
     {'msg': "'wcc_load:app' is a dict, not a callable", 'wrong_entry_point': True}),
    ('class App(object):\n    @property\n    def wsgi(self):\n        raise KeyError("config")\napp = App()\n',
     'wcc_load:app.wsgi',
     {'msg': "KeyError: 'config'", 'exception': 'KeyError', 'loading': True}),
    ('def make():\n    raise RuntimeError("no database")\n', 'wcc_load:make()',
     {'msg': 'RuntimeError: no database', 'exception': 'RuntimeError', 'loading': True}),
    ('def make():\n    raise SystemExit(3)\n', 'wcc_load:make()',
     {'msg': 'SystemExit: 3', 'exception': 'SystemExit', 'loading': True}),
    ('def make():\n    pass\n', 'wcc_load:make()',
     {'msg': "the factory 'wcc_load:make' returned NoneType, not a WSGI callable (does it end with 'return app'?)",
      'wrong_entry_point': True}),
    ('def make(name):\n    return name\n', 'wcc_load:make("x")',
     {'msg': "the factory 'wcc_load:make' returned str, not a WSGI callable", 'wrong_entry_point': True}),
    ('def make():\n    return make\n', 'wcc_load:make(debug=True)',
     {'msg': "make() got an unexpected keyword argument 'debug'", 'wrong_entry_point': True}),
    ('def make(path):\n    return make\n', 'wcc_load:make("${MODWSGI_APP_CONFIG}/app.ini")',
     {'msg': '${MODWSGI_APP_CONFIG} is not set in the environment; the names expanded in entry_point arguments are '
             '${MODWSGI_APP}, ${MODWSGI_APP_ROOT}, ${MODWSGI_APP_DATA}, ${MODWSGI_APP_CONFIG}, ${MODWSGI_APP_RELEASE}',
      'wrong_entry_point': True}),
])
def test_load_application_failures(sandbox, monkeypatch, source, entry_point, expected):
    monkeypatch.delenv('MODWSGI_APP_CONFIG', raising=False)
    write(sandbox, {'wcc_load.py': source})
    application, problem = load(entry_point)
    assert application is None
    assert problem['failed'] is True and problem['stage'] == 'import'
    for key, value in expected.items():
        assert problem[key] == value
    if 'exception' in expected:
        assert problem['traceback_tail'][-1] == expected['msg']
        assert problem['sys_path'] == sys.path
    else:
        assert 'traceback_tail' not in problem and 'exception' not in problem


def test_load_application_without_calling_the_factory(sandbox, monkeypatch):
    for name in ('MODWSGI_APP', 'MODWSGI_APP_DATA'):
        monkeypatch.delenv(name, raising=False)
    write(sandbox, {'wcc_nocall.py': '''\
        import os
        CALLS = []

        def create_app(config, data=None):
            CALLS.append(config)
            if not os.path.isdir(os.path.dirname(config)):
                raise RuntimeError("no such directory: " + config)

        def app(environ, start_response):
            return []
        '''})
    # The names are not set: the arguments are not expanded, the factory is only looked up.
    factory, problem = load('wcc_nocall:create_app("${MODWSGI_APP_DATA}/hgweb.config", data={b"${MODWSGI_APP}": 1})',
                            call_factory=False)
    assert problem is None
    assert factory is sys.modules['wcc_nocall'].create_app
    application, problem = load('wcc_nocall:app', call_factory=False)
    assert problem is None and application is sys.modules['wcc_nocall'].app
    assert sys.modules['wcc_nocall'].CALLS == []


@pytest.mark.parametrize('source, entry_point, expected', [
    ('app = None\n', 'wcc_lookup:make()',
     {'msg': "'wcc_lookup' has no attribute 'make'", 'wrong_entry_point': True}),
    ('app = None\n', 'wcc_lookup:application',
     {'msg': "'wcc_lookup' has no attribute 'application'", 'wrong_entry_point': True}),
    ('make = {}\n', 'wcc_lookup:make("${MODWSGI_APP_DATA}")',
     {'msg': "'wcc_lookup:make' is a dict, not a callable", 'wrong_entry_point': True}),
    ('app = "text"\n', 'wcc_lookup:app',
     {'msg': "'wcc_lookup:app' is a str, not a callable", 'wrong_entry_point': True}),
    ('def __getattr__(name):\n    raise RuntimeError("lazy " + name)\n', 'wcc_lookup:make()',
     {'msg': 'RuntimeError: lazy make', 'exception': 'RuntimeError', 'loading': True}),
    ('raise SystemExit(2)\n', 'wcc_lookup:make()',
     {'msg': 'SystemExit: 2', 'exception': 'SystemExit'}),
])
def test_load_application_without_calling_the_factory_failures(sandbox, source, entry_point, expected):
    write(sandbox, {'wcc_lookup.py': source})
    application, problem = load(entry_point, call_factory=False)
    assert application is None
    assert problem['failed'] is True and problem['stage'] == 'import'
    for key, value in expected.items():
        assert problem[key] == value


@pytest.mark.parametrize('source, entry_point', [
    ('def make():\n    raise RuntimeError("no database")\n', 'wcc_nocall2:make()'),
    ('def make():\n    pass\n', 'wcc_nocall2:make()'),
    ('def make():\n    return make\n', 'wcc_nocall2:make(debug=True)'),
    ('def make(path):\n    return make\n', 'wcc_nocall2:make("${MODWSGI_APP_CONFIG}/app.ini")'),
])
def test_load_application_without_calling_the_factory_passes_what_only_the_call_would_refuse(
        sandbox, monkeypatch, source, entry_point):
    monkeypatch.delenv('MODWSGI_APP_CONFIG', raising=False)
    write(sandbox, {'wcc_nocall2.py': source})
    factory, problem = load(entry_point, call_factory=False)
    assert problem is None and factory is sys.modules['wcc_nocall2'].make
    application, problem = load(entry_point)
    assert application is None and problem['stage'] == 'import'


# ---------------------------------------------------------------------------
# In-process: the request
# ---------------------------------------------------------------------------

REQUEST = {
    'method': 'GET',
    'script_name': '/api',
    'path_info': '/x y',
    'query_string': 'a=1',
    'request_uri': '/api/x%20y?a=1',
    'server_name': 'example.com',
    'server_port': '8080',
    'http_host': 'example.com:8080',
}


def call(application, request=None):
    return child.wsgi_call(application, dict(REQUEST, **(request or {})))


def test_wsgi_call_environ():
    seen = {}

    def application(environ, start_response):
        seen.update(environ)
        environ['wsgi.errors'].write(u'one\ntwo\n')
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'Hello', b'', b' world']

    result = call(application, {'method': 'HEAD'})
    assert result == {
        'status': '200 OK',
        'status_code': 200,
        'headers': [['Content-Type', 'text/plain']],
        'body_bytes': 11,
        'body_excerpt': 'Hello world',
        'wsgi_errors': ['one', 'two'],
    }
    assert seen['REQUEST_METHOD'] == 'HEAD'
    assert (seen['SCRIPT_NAME'], seen['PATH_INFO'], seen['QUERY_STRING']) == ('/api', '/x y', 'a=1')
    assert seen['REQUEST_URI'] == '/api/x%20y?a=1'
    assert (seen['SERVER_NAME'], seen['SERVER_PORT'], seen['HTTP_HOST']) == ('example.com', '8080', 'example.com:8080')
    assert seen['SERVER_PROTOCOL'] == 'HTTP/1.1'
    assert seen['wsgi.version'] == (1, 0)
    assert seen['wsgi.url_scheme'] == 'http'
    assert seen['wsgi.multithread'] is True and seen['wsgi.multiprocess'] is True and seen['wsgi.run_once'] is False
    assert seen['wsgi.input'].read() == b''
    assert seen['wsgi.file_wrapper'].__name__ == 'FileWrapper'


def test_wsgi_call_body_excerpt_is_limited_and_decoded():
    def application(environ, start_response):
        start_response('500 Internal Server Error', [])
        return [b'x' * 499 + u'\u00e9'.encode('utf-8'), b'y' * 1000]

    result = call(application)
    assert result['status_code'] == 500
    assert result['body_bytes'] == 1501
    assert result['body_excerpt'] == 'x' * 499 + u'\ufffd'


def test_wsgi_call_closes_the_iterable():
    events = []

    class Body(object):
        def __iter__(self):
            events.append('iter')
            return iter([b'ok'])

        def close(self):
            events.append('close')

    def application(environ, start_response):
        start_response('200 OK', [])
        return Body()

    assert call(application)['body_bytes'] == 2
    assert events == ['iter', 'close']


def test_wsgi_call_closes_the_iterable_when_it_raises():
    events = []

    def body():
        try:
            yield b'first'
            raise RuntimeError('in the middle')
        finally:
            events.append('closed')

    def application(environ, start_response):
        start_response('200 OK', [])
        return body()

    result = call(application)
    assert result['failed'] is True and result['stage'] == 'call'
    assert result['msg'] == 'RuntimeError: in the middle'
    assert events == ['closed']


def test_wsgi_call_write_callable():
    def application(environ, start_response):
        write_body = start_response('200 OK', [])
        write_body(b'written ')
        return [b'returned']

    result = call(application)
    assert result['body_bytes'] == 16 and result['body_excerpt'] == 'written returned'


def test_wsgi_call_start_response_with_exc_info_before_the_body():
    def application(environ, start_response):
        start_response('200 OK', [('X-First', '1')])
        try:
            raise ValueError('late error')
        except ValueError:
            start_response('503 Service Unavailable', [('X-Second', '2')], sys.exc_info())
        return [b'sorry']

    result = call(application)
    assert result['status'] == '503 Service Unavailable'
    assert result['headers'] == [['X-Second', '2']]


def test_wsgi_call_start_response_with_exc_info_after_the_body():
    def application(environ, start_response):
        write_body = start_response('200 OK', [])
        write_body(b'partial')
        try:
            raise ValueError('too late')
        except ValueError:
            start_response('500 Internal Server Error', [], sys.exc_info())
        return []

    result = call(application)
    assert result['failed'] is True
    assert result['msg'] == 'ValueError: too late'
    assert result['exception'] == 'ValueError'


def test_wsgi_call_application_that_raises_writes_errors():
    def application(environ, start_response):
        environ['wsgi.errors'].write(u''.join(u'line %d\n' % index for index in range(30)))
        raise KeyError('DATABASE_URL')

    result = call(application)
    assert result['failed'] is True and result['stage'] == 'call'
    assert result['msg'] == "KeyError: 'DATABASE_URL'"
    assert result['exception'] == 'KeyError'
    assert result['traceback_tail'][-1] == "KeyError: 'DATABASE_URL'"
    assert CHILD_FILE not in '\n'.join(result['traceback_tail'])
    assert result['wsgi_errors'] == ['line %d' % index for index in range(10, 30)]


def test_wsgi_call_errors_tail_is_limited_in_characters():
    def application(environ, start_response):
        environ['wsgi.errors'].write(u'a' * 5000)
        start_response('200 OK', [])
        return []

    assert call(application)['wsgi_errors'] == ['a' * child.ERRORS_TAIL_CHARS]


def test_wsgi_call_without_start_response():
    def application(environ, start_response):
        environ['wsgi.errors'].write(u'forgot\n')
        return []

    assert call(application) == {
        'failed': True, 'stage': 'call', 'msg': 'the application returned without calling start_response()',
        'wsgi_errors': ['forgot']}


@pytest.mark.parametrize('status, headers, body, fragment', [
    (b'200 OK', [], [], 'TypeError: the status must be a str'),
    ('200', [], [], None),
    ('20 OK', [], [], 'the status must look like "200 OK"'),
    ('2000 OK', [], [], 'the status must look like "200 OK"'),
    ('OK 200', [], [], 'the status must look like "200 OK"'),
    ('200 OK', (('A', 'b'),), [], 'the headers must be a list'),
    ('200 OK', [['A', 'b']], [], 'each header must be a (name, value) tuple'),
    ('200 OK', [('A', 'b', 'c')], [], 'each header must be a (name, value) tuple'),
    ('200 OK', [('A', 1)], [], 'header names and values must be str'),
    ('200 OK', [(b'A', 'b')], [], 'header names and values must be str'),
    ('200 OK', [('A', 'b\r\nX-Injected: 1')], [], 'must not contain line breaks'),
    ('200 OK', [], [u'text'], "the response body must be bytes: got str 'text' (mod_wsgi rejects this response)"),
    ('200 OK', [], [bytearray(b'x')], 'the response body must be bytes'),
])
def test_wsgi_call_rejects_what_mod_wsgi_rejects(status, headers, body, fragment):
    def application(environ, start_response):
        start_response(status, headers)
        return body

    result = call(application)
    if fragment is None:
        assert result['status'] == '200' and result['status_code'] == 200
        return
    assert result['failed'] is True and result['stage'] == 'call'
    assert fragment in result['msg']
    assert result['exception'] == 'TypeError'


def test_wsgi_call_start_response_twice():
    def application(environ, start_response):
        start_response('200 OK', [])
        start_response('404 Not Found', [])
        return []

    result = call(application)
    assert result['msg'] == 'AssertionError: start_response() was called twice without exc_info'


def test_wsgi_call_body_before_start_response():
    def application(environ, start_response):
        yield b'early'
        start_response('200 OK', [])

    result = call(application)
    assert result['msg'] == 'AssertionError: the application sent body data before calling start_response()'


def test_wsgi_call_catches_system_exit():
    def application(environ, start_response):
        raise SystemExit(1)

    result = call(application)
    assert result['exception'] == 'SystemExit'


# ---------------------------------------------------------------------------
# In-process: check() and main()
# ---------------------------------------------------------------------------

def params_for(root, module, callable_='app', env=None, cwd=None, request=True):
    return {'entry_point': '%s:%s' % (module, callable_), 'python_path': [str(root)], 'cwd': str(cwd or root),
            'env': env or {}, 'request': dict(REQUEST) if request else None}


GOOD_APP = '''\
import os
import sys

SEEN = {"argv": list(sys.argv), "cwd": os.getcwd(), "env": os.environ.get("WCC_SETTING")}


def app(environ, start_response):
    start_response("200 OK", [("X-Seen", repr(sorted(SEEN.items())))])
    return [b"ok"]
'''


def test_check_good_app(sandbox, tmp_path):
    write(sandbox, {'wcc_app/__init__.py': '', 'wcc_app/wsgi.py': GOOD_APP})
    cwd = tmp_path / 'release'
    cwd.mkdir()
    result = child.check(params_for(sandbox, 'wcc_app.wsgi', env={'WCC_SETTING': 'prod'}, cwd=cwd))
    assert result['status'] == '200 OK'
    seen = dict(ast.literal_eval(result['headers'][0][1]))
    assert seen == {'argv': ['mod_wsgi'], 'cwd': str(cwd), 'env': 'prod'}
    assert sys.path[0] == str(sandbox)
    assert child._STATE['stage'] == 'call'
    assert child._STATE['entry_file'] == str(sandbox / 'wcc_app' / 'wsgi.py')
    assert child._STATE['warnings'] == []
    assert set(child._STATE['elapsed']) == {'import', 'call'}


def test_check_refuses_run_calls_before_importing(sandbox):
    write(sandbox, {
        'wcc_run/__init__.py': 'import flask\napp = flask.Flask(__name__)\napp.run()\n',
        'wcc_run/wsgi.py': 'from wcc_run import app\nif __name__ == "__main__":\n    app.run()\n',
    })
    result = child.check(params_for(sandbox, 'wcc_run.wsgi'))
    assert result == {'failed': True, 'stage': 'run_call', 'msg': 'run() at import time', 'run_calls': [
        {'file': str(sandbox / 'wcc_run' / '__init__.py'), 'line': 3, 'call': 'app.run()'}]}
    assert child._STATE['stage'] == 'scan'
    assert 'wcc_run' not in sys.modules


def test_check_module_not_found(sandbox):
    result = child.check(params_for(sandbox, 'wcc_nowhere.wsgi'))
    assert result['stage'] == 'import' and result['not_found'] is True
    assert result['msg'] == "module 'wcc_nowhere.wsgi' was not found"
    assert result['sys_path'][0] == str(sandbox)


def test_check_parent_that_fails_while_locating(sandbox):
    write(sandbox, {'wcc_broken/__init__.py': 'raise RuntimeError("broken package")\n'})
    result = child.check(params_for(sandbox, 'wcc_broken.missing'))
    assert result['stage'] == 'import' and result['exception'] == 'RuntimeError'
    assert result['msg'] == 'RuntimeError: broken package'
    assert result['traceback_tail'][-1] == 'RuntimeError: broken package'


def test_check_bad_working_directory(sandbox, tmp_path):
    result = child.check(params_for(sandbox, 'wcc_app', cwd=tmp_path / 'missing'))
    assert result['stage'] == 'setup'
    assert result['msg'].startswith('cannot change to the directory %s: ' % (tmp_path / 'missing'))


def test_check_import_failure(sandbox):
    write(sandbox, {'wcc_fail.py': 'import wcc_not_installed\n'})
    result = child.check(params_for(sandbox, 'wcc_fail'))
    assert result['stage'] == 'import' and result['exception'] == 'ModuleNotFoundError'
    assert 'call' not in child._STATE['elapsed'] and 'import' in child._STATE['elapsed']


def test_check_sourceless_entry_module_is_not_scanned(sandbox):
    write(sandbox, {'wcc_compiled.py': 'class A(object):\n    def run(self):\n        pass\n\n'
                                       'A().run()\n\ndef app(environ, start_response):\n'
                                       '    start_response("200 OK", [])\n    return []\n'})
    source = sandbox / 'wcc_compiled.py'
    py_compile.compile(str(source), cfile=str(sandbox / 'wcc_compiled.pyc'), doraise=True)
    source.unlink()
    result = child.check(params_for(sandbox, 'wcc_compiled'))
    assert result['status'] == '200 OK'
    assert child._STATE['warnings'] == [
        '%s is not a Python source file; it was not checked for run() calls.' % (sandbox / 'wcc_compiled.pyc')]


def test_check_calls_the_factory_once_after_the_env_is_set(sandbox):
    write(sandbox, {'wcc_fact.py': '''\
        import os
        CALLS = []

        def create(path, **options):
            CALLS.append((path, options, os.environ.get("WCC_MODE")))
            def app(environ, start_response):
                start_response("200 OK", [("X-Calls", repr(CALLS))])
                return [b"ok"]
            return app
        '''})
    env = {'WCC_MODE': 'prod', 'MODWSGI_APP': 'blog', 'MODWSGI_APP_DATA': '/srv/blog/data'}
    result = child.check(params_for(sandbox, 'wcc_fact', 'create("${MODWSGI_APP_DATA}/db", name="${MODWSGI_APP}")',
                                    env=env))
    assert result['status'] == '200 OK'
    assert ast.literal_eval(result['headers'][0][1]) == [('/srv/blog/data/db', {'name': 'blog'}, 'prod')]


def test_check_without_a_request_only_loads_the_application(sandbox):
    write(sandbox, {'wcc_only.py': '''\
        CALLS = []

        def create():
            CALLS.append("factory")
            def app(environ, start_response):
                CALLS.append("request")
                raise RuntimeError("no request was expected")
            return app
        '''})
    result = child.check(params_for(sandbox, 'wcc_only', 'create()', request=False))
    assert result == {}
    assert sys.modules['wcc_only'].CALLS == ['factory']
    assert child._STATE['stage'] == 'import' and set(child._STATE['elapsed']) == {'import'}


def test_check_with_load_false_imports_and_looks_up_the_factory_only(sandbox):
    write(sandbox, {'wcc_noload.py': '''\
        CALLS = []

        def create(path):
            CALLS.append(path)
            raise RuntimeError("the factory was called")
        '''})
    params = params_for(sandbox, 'wcc_noload', 'create(b"${MODWSGI_APP_DATA}/hgweb.config")', request=False)
    params['load'] = False
    result = child.check(params)
    assert result == {}
    assert sys.modules['wcc_noload'].CALLS == []
    assert child._STATE['stage'] == 'import' and set(child._STATE['elapsed']) == {'import'}
    assert child._STATE['entry_file'] == str(sandbox / 'wcc_noload.py')
    params['entry_point'] = 'wcc_noload:missing()'
    result = child.check(params)
    assert result['stage'] == 'import' and result['wrong_entry_point'] is True
    assert result['msg'] == "'wcc_noload' has no attribute 'missing'"


def test_check_with_load_false_still_refuses_run_calls_and_bad_arguments(sandbox):
    write(sandbox, {'wcc_noload_run.py': 'import flask\napp = flask.Flask(__name__)\napp.run()\n',
                    'wcc_noload_args.py': 'raise RuntimeError("imported")\n'})
    params = dict(params_for(sandbox, 'wcc_noload_run', request=False), load=False)
    assert child.check(params)['stage'] == 'run_call'
    params = dict(params_for(sandbox, 'wcc_noload_args', 'make(b"${MODWSGI_APP_HOME}")', request=False), load=False)
    result = child.check(params)
    assert result['stage'] == 'import' and result['wrong_entry_point'] is True
    assert '${MODWSGI_APP_HOME} is not one of the names expanded' in result['msg']
    assert 'wcc_noload_run' not in sys.modules and 'wcc_noload_args' not in sys.modules


def test_check_refuses_a_bad_entry_point_before_importing(sandbox):
    write(sandbox, {'wcc_bad.py': 'raise RuntimeError("imported")\n'})
    result = child.check(params_for(sandbox, 'wcc_bad', 'create(os.environ)'))
    assert result['stage'] == 'import' and result['wrong_entry_point'] is True
    assert result['msg'].startswith("entry_point 'wcc_bad:create(os.environ)' must be 'module:callable'")
    assert 'wcc_bad' not in sys.modules


class _Exit(Exception):
    pass


def run_main(monkeypatch, tmp_path, params):
    """Run child.main() in-process; os._exit and the redirection of file descriptor 0 are faked."""
    result_path = tmp_path / 'result.json'
    codes = []

    def fake_exit(code):
        codes.append(code)
        raise _Exit()

    monkeypatch.setattr(sys, 'argv', ['wsgi_check_child.py', str(result_path)])
    monkeypatch.setattr(sys, 'stdin', io.StringIO(json.dumps(params)))
    monkeypatch.setattr(os, 'dup2', lambda fd, fd2: None)
    monkeypatch.setattr(os, '_exit', fake_exit)
    with pytest.raises(_Exit):
        child.main()
    sys.stdin.close()
    assert codes == [0]
    return json.loads(result_path.read_text())


def test_main_reports_the_result(sandbox, tmp_path, monkeypatch):
    write(sandbox, {'wcc_main.py': 'def app(environ, start_response):\n    start_response("200 OK", [])\n'
                                   '    return [b"main"]\n'})
    result = run_main(monkeypatch, tmp_path, params_for(sandbox, 'wcc_main'))
    assert result['done'] is True
    assert result['status'] == '200 OK' and result['body_bytes'] == 4
    assert result['python_version'] == '%d.%d' % sys.version_info[:2]
    assert result['python_executable'] == sys.executable


def test_main_drops_its_own_directory_from_sys_path(sandbox, tmp_path, monkeypatch):
    here = os.path.dirname(os.path.abspath(CHILD_FILE))
    sys.path.insert(0, here)
    write(sandbox, {'wcc_main.py': 'def app(environ, start_response):\n    start_response("200 OK", [])\n'
                                   '    return []\n'})
    run_main(monkeypatch, tmp_path, params_for(sandbox, 'wcc_main'))
    assert here not in sys.path


def test_main_reports_its_own_failures(sandbox, tmp_path, monkeypatch):
    params = params_for(sandbox, 'wcc_main')
    del params['env']
    result = run_main(monkeypatch, tmp_path, params)
    assert result['done'] is True and result['failed'] is True and result['stage'] == 'setup'
    assert result['msg'] == "the check itself failed: KeyError: 'env'"
    assert any('wsgi_check_child.py' in line for line in result['traceback_tail'])
