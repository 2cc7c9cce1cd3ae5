# -*- coding: utf-8 -*-
# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import venv

import pytest


from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_check_child
from ansible_collections.modwsgi.deploy.plugins.module_utils.run_as import RunAs
from ansible_collections.modwsgi.deploy.plugins.modules import wsgi_check
from ansible_collections.modwsgi.deploy.tests.unit.plugins.modules.module_harness import (
    AnsibleExitJson, AnsibleFailJson, module_args, run_main)


# ---------------------------------------------------------------------------
# The child script (module_utils/wsgi_check_child.py): its pure functions in-process
# (more in tests/unit/plugins/module_utils/test_wsgi_check_child.py)
# ---------------------------------------------------------------------------

@pytest.fixture(scope='module')
def child():
    return vars(wsgi_check_child)


@pytest.mark.parametrize('version', [(3, 6), (3, 8)])
def test_child_script_is_valid_for_old_pythons(version):
    ast.parse(wsgi_check.child_source(), feature_version=version)


def lines_of(child, source):
    return [line for line, dummy in child['find_run_calls'](textwrap.dedent(source))]


SCAN_CASES = [
    ('module_level', '''\
        from flask import Flask
        app = Flask(__name__)

        app.run()
        ''', [4]),
    ('guarded', '''\
        app = make()
        if __name__ == "__main__":
            app.run(debug=True)
        ''', []),
    ('guarded_single_quotes', '''\
        if __name__ == '__main__':
            app.run()
        ''', []),
    ('guarded_reversed', '''\
        if "__main__" == __name__:
            app.run()
        ''', []),
    ('guarded_reversed_single_quotes', '''\
        if '__main__' == __name__:
            app.run()
        ''', []),
    ('else_branch_is_not_guarded', '''\
        if __name__ == "__main__":
            app.run()
        else:
            app.run(port=8000)
        ''', [4]),
    ('elif_guard_inside_else', '''\
        if DEBUG:
            setup()
        elif __name__ == "__main__":
            app.run()
        ''', []),
    ('not_equal_guards_the_else_branch', '''\
        if __name__ != "__main__":
            app.run()
        else:
            app.run()
        ''', [2]),
    ('guard_combined_with_and', '''\
        if __name__ == "__main__" and DEBUG:
            app.run()
        ''', []),
    ('other_condition', '''\
        if DEBUG:
            app.run()
        ''', [2]),
    ('inside_def', '''\
        def main():
            app.run()
        ''', []),
    ('inside_async_def', '''\
        async def main():
            await app.run()
        ''', []),
    ('inside_lambda', '''\
        start = lambda: app.run()
        ''', []),
    ('inside_class_method', '''\
        class Server(object):
            def start(self):
                self.app.run()
        ''', []),
    ('class_body_runs_at_import', '''\
        class Server(object):
            app.run()
        ''', [2]),
    ('decorator_runs_at_import', '''\
        @app.run()
        def view():
            pass
        ''', [1]),
    ('inside_try_at_module_level', '''\
        try:
            import config
        except ImportError:
            config = None
        else:
            pass
        finally:
            app.run(host="0.0.0.0")
        ''', [8]),
    ('inside_try_body', '''\
        try:
            app.run()
        except Exception:
            pass
        ''', [2]),
    ('inside_with_for_while', '''\
        with lock:
            app.run()
        for i in range(1):
            app.run()
        while False:
            app.run()
        ''', [2, 4, 6]),
    ('subprocess_run_ignored', '''\
        import subprocess
        subprocess.run(["true"], check=True)
        ''', []),
    ('asyncio_run_ignored', '''\
        import asyncio
        asyncio.run(setup())
        ''', []),
    ('other_receivers', '''\
        socketio.run(app)
        create_app().run()
        self_app.server.run()
        ''', [1, 2, 3]),
    ('attribute_not_called', '''\
        runner = app.run
        result = app.running()
        ''', []),
    ('nested_call_in_expression', '''\
        value = print(app.run())
        ''', [1]),
    ('line_numbers', '''\
        """Docstring.

        Several lines.
        """
        import os


        def view():
            app.run()


        if __name__ == "__main__":
            app.run()

        app.run(
            debug=True,
        )
        uvicorn.run(app)
        ''', [15, 18]),
]


@pytest.mark.parametrize('source, expected', [case[1:] for case in SCAN_CASES], ids=[case[0] for case in SCAN_CASES])
def test_find_run_calls(child, source, expected):
    assert lines_of(child, source) == expected


def test_find_run_calls_text(child):
    source = 'app.run(debug=True)\ncreate_app(\n    "x").run()\n'
    assert child['find_run_calls'](source) == [(1, 'app.run()'), (2, 'create_app( "x").run()')]


def test_find_run_calls_syntax_error(child):
    with pytest.raises(SyntaxError):
        child['find_run_calls']('def broken(:\n')


def test_main_guard(child):
    def guard(expression):
        return child['main_guard'](ast.parse(expression, mode='eval').body)

    assert guard('__name__ == "__main__"') == 'body'
    assert guard("'__main__' == __name__") == 'body'
    assert guard('__name__ != "__main__"') == 'orelse'
    assert guard('not __name__ == "__main__"') == 'orelse'
    assert guard('DEBUG and __name__ == "__main__"') == 'body'
    assert guard('DEBUG or __name__ == "__main__"') is None
    assert guard('__name__ == "main"') is None
    assert guard('name == "__main__"') is None


def test_scan_files_reports_file_and_skips_unparsable(child, tmp_path):
    good = tmp_path / 'good.py'
    good.write_text(u'# -*- coding: utf-8 -*-\n# \u00e9\napp.run()\n', encoding='utf-8')
    broken = tmp_path / 'broken.py'
    broken.write_text(u'def x(:\n    app.run()\n')
    findings = child['scan_files']([str(good), str(broken), str(tmp_path / 'missing.py')])
    assert findings == [{'file': str(good), 'line': 3, 'call': 'app.run()'}]


# ---------------------------------------------------------------------------
# Parent-side pure helpers
# ---------------------------------------------------------------------------

def test_entry_point_parser_is_the_shared_one():
    # Parsing, its messages and the loader are tested in tests/unit/plugins/module_utils/test_wsgi_entry_point.py.
    assert not hasattr(wsgi_check, 'parse_entry_point')
    assert wsgi_check.wsgi_entry_point.parse_entry_point('blog:create_app(debug=False)')['kwargs'] == {'debug': False}


def test_build_request():
    request = wsgi_check.build_request('/a%20b/?x=1&y=%20', 'www.example.com:8080', '/api/', 'HEAD')
    assert request == {
        'method': 'HEAD',
        'script_name': '/api',
        'path_info': '/a b/',
        'query_string': 'x=1&y=%20',
        'request_uri': '/api/a%20b/?x=1&y=%20',
        'server_name': 'www.example.com',
        'server_port': '8080',
        'http_host': 'www.example.com:8080',
    }
    root = wsgi_check.build_request('/', 'localhost', '/')
    assert root['script_name'] == '' and root['path_info'] == '/' and root['server_port'] == '80'
    assert root['request_uri'] == '/' and root['query_string'] == '' and root['method'] == 'GET'
    assert wsgi_check.build_request('/', '[::1]:81', '')['server_name'] == '[::1]'


@pytest.mark.parametrize('path, host, script_name, fragment', [
    ('health', 'localhost', '', 'path'),
    ('/', 'localhost', 'api', 'script_name'),
    ('/', 'localhost', '/api?x', 'script_name'),
    ('/', '', '', 'host'),
    ('/', 'http://example.com', '', 'host'),
    ('/', 'example.com:99999', '', 'host'),
])
def test_build_request_errors(path, host, script_name, fragment):
    with pytest.raises(ValueError) as excinfo:
        wsgi_check.build_request(path, host, script_name)
    assert str(excinfo.value).startswith(fragment)


def test_check_status():
    assert wsgi_check.check_status(200, []) is None
    assert wsgi_check.check_status(404, []) is None
    assert '500' in wsgi_check.check_status(500, [])
    assert wsgi_check.check_status(503, [503]) is None
    assert 'not one of the expected 200, 204' in wsgi_check.check_status(302, [200, 204])


def test_env_strings():
    assert wsgi_check.env_strings({'A': 'x', 'B': 1, 'C': True, 'D': None}) == {'A': 'x', 'B': '1', 'C': 'true', 'D': ''}


def test_make_preexec_switches_group_then_groups_then_user(monkeypatch):
    calls = []
    monkeypatch.setattr(wsgi_check.os, 'setgid', lambda gid: calls.append(('setgid', gid)))
    monkeypatch.setattr(wsgi_check.os, 'initgroups', lambda name, gid: calls.append(('initgroups', name, gid)))
    monkeypatch.setattr(wsgi_check.os, 'setuid', lambda uid: calls.append(('setuid', uid)))
    wsgi_check.make_preexec(RunAs('app', 1001, 1002, '/home/app', switch=True))()
    assert calls == [('setgid', 1002), ('initgroups', 'app', 1002), ('setuid', 1001)]
    del calls[:]
    wsgi_check.make_preexec(None)()
    wsgi_check.make_preexec(RunAs('me', 1000, 1000, '/home/me', switch=False))()
    assert calls == []


def test_child_environment_drops_python_variables(monkeypatch):
    monkeypatch.setenv('PYTHONPATH', '/elsewhere')
    monkeypatch.setenv('PYTHONHOME', '/elsewhere')
    monkeypatch.setenv('KEEP_ME', 'yes')
    env = wsgi_check.child_environment(RunAs('app', 1001, 1002, '/home/app', switch=True))
    assert 'PYTHONPATH' not in env and 'PYTHONHOME' not in env
    assert env['KEEP_ME'] == 'yes'
    assert (env['HOME'], env['USER'], env['LOGNAME']) == ('/home/app', 'app', 'app')


# ---------------------------------------------------------------------------
# main() end to end, with real check processes (python: sys.executable)
# ---------------------------------------------------------------------------

@pytest.fixture
def run_module(monkeypatch):
    warnings = []

    def run(args):
        result = run_main(monkeypatch, wsgi_check, args, warnings)
        result.result['_warnings'] = warnings
        return result

    return run


GOOD_APP = '''\
def app(environ, start_response):
    body = b"Hello from " + environ["PATH_INFO"].encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Script-Name", environ["SCRIPT_NAME"]),
                              ("X-Query", environ["QUERY_STRING"]), ("X-Host", environ["HTTP_HOST"])])
    return [body]
'''


def make_app(tmp_path, files):
    src = tmp_path / 'src'
    for name, text in files.items():
        target = src / name
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True)
        target.write_text(textwrap.dedent(text))
    return src


def check_args(src, entry_point, **extra):
    args = {'python': sys.executable, 'entry_point': entry_point, 'python_path': [str(src)], 'chdir': str(src)}
    args.update(extra)
    return args


def test_good_app(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': GOOD_APP})
    result = run_module(check_args(src, 'hello:app', path='/x%20y?a=1', script_name='/api', host='example.com'))
    assert isinstance(result, AnsibleExitJson), result.result
    result = result.result
    assert result['changed'] is False
    assert result['status'] == '200 OK'
    assert result['status_code'] == 200
    assert result['headers'] == [['Content-Type', 'text/plain'], ['X-Script-Name', '/api'], ['X-Query', 'a=1'],
                                 ['X-Host', 'example.com']]
    assert result['body_bytes'] == len(b'Hello from /x y')
    assert result['entry_file'] == str(src / 'hello.py')
    assert result['python_version'] == '%d.%d' % sys.version_info[:2]
    assert set(result['elapsed']) == {'import', 'call'}
    assert all(isinstance(value, float) and value >= 0 for value in result['elapsed'].values())
    assert 'body_excerpt' not in result
    assert result['_warnings'] == []


def test_package_entry_point_with_dotted_callable(tmp_path, run_module):
    src = make_app(tmp_path, {
        'mysite/__init__.py': '',
        'mysite/wsgi.py': '''\
            import sys
            print("noise on stdout")
            sys.stderr.write("noise on stderr\\n")

            class Holder(object):
                def application(self, environ, start_response):
                    start_response("204 No Content", [])
                    return iter([b"", b"ab", b"c"])

            holder = Holder()
            ''',
    })
    result = run_module(check_args(src, 'mysite.wsgi:holder.application'))
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['status_code'] == 204
    assert result.result['body_bytes'] == 3
    assert result.result['entry_file'] == str(src / 'mysite' / 'wsgi.py')


def test_unguarded_run_is_refused_before_import(tmp_path, run_module):
    marker = tmp_path / 'imported'
    src = make_app(tmp_path, {'hello.py': '''\
        open(%r, "w").close()

        class App(object):
            def run(self):
                import time
                time.sleep(60)

            def __call__(self, environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]

        app = App()
        if __name__ == "__main__":
            app.run()

        app.run()
        ''' % str(marker)})
    result = run_module(check_args(src, 'hello:app', timeout=20))
    assert isinstance(result, AnsibleFailJson)
    result = result.result
    assert result['stage'] == 'run_call'
    assert result['msg'].startswith('%s:16: app.run() runs at import time' % (src / 'hello.py'))
    assert 'if __name__ == "__main__":' in result['msg']
    assert 'SystemExit ignored' in result['msg']
    assert result['run_calls'] == [{'file': str(src / 'hello.py'), 'line': 16, 'call': 'app.run()'}]
    assert not marker.exists()


def test_unguarded_run_in_parent_package_is_refused(tmp_path, run_module):
    src = make_app(tmp_path, {
        'mysite/__init__.py': 'import flask\nflask.app.run()\n',
        'mysite/wsgi.py': GOOD_APP,
    })
    result = run_module(check_args(src, 'mysite.wsgi:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'run_call'
    assert result.result['msg'].startswith('%s:2: flask.app.run() runs' % (src / 'mysite' / '__init__.py'))


def test_import_error_is_refused_with_traceback(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import os\nimport flask_missing_dependency\n' + GOOD_APP})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    result = result.result
    assert result['stage'] == 'import'
    assert "ModuleNotFoundError: No module named 'flask_missing_dependency'" in result['msg']
    assert 'requirements' in result['msg']
    assert 'Last lines of the traceback:' in result['msg']
    assert 'hello.py", line 2' in result['msg']
    assert result['traceback_tail'] == [
        'Traceback (most recent call last):',
        '  File "%s", line 2, in <module>' % (src / 'hello.py'),
        '    import flask_missing_dependency',
        "ModuleNotFoundError: No module named 'flask_missing_dependency'",
    ]


def test_traceback_keeps_the_last_lines(tmp_path, run_module):
    # Distinct functions: Python would fold a repeated frame into one line.
    chain = ''.join('def f%d():\n    return f%d()\n' % (index, index + 1) for index in range(15))
    src = make_app(tmp_path, {'hello.py': chain + 'def f15():\n    return 1 / 0\n\nf0()\n'})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    assert len(result.result['traceback_tail']) == 20
    assert result.result['traceback_tail'][-1] == 'ZeroDivisionError: division by zero'
    assert 'wsgi_check_child' not in result.result['msg']


def test_syntax_error_at_import(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'def app(environ, start_response)\n    pass\n'})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    assert 'SyntaxError' in result.result['msg']
    tail = result.result['traceback_tail']
    assert tail[0] == '  File "%s", line 1' % (src / 'hello.py')
    assert tail[-1].startswith('SyntaxError')
    assert 'importlib' not in result.result['msg']


def test_system_exit_at_import(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import sys\nsys.exit(3)\n'})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    assert 'SystemExit: 3' in result.result['msg']
    assert 'SystemExit ignored' in result.result['msg']


def test_entry_module_not_found(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': GOOD_APP})
    result = run_module(check_args(src, 'nothere.wsgi:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    msg = result.result['msg']
    assert "'nothere.wsgi'" in msg and 'was not found' in msg
    assert 'in the directories on sys.path: %s, ' % src in msg
    # Right for both kinds of users: the app role's (source.subdir) and the module's (python_path).
    assert 'with the app role, source.subdir decides which directory of the source is on sys.path' in msg
    assert 'with the wsgi_check module, python_path does' in msg
    assert 'Check python_path' not in msg


def test_missing_dependency_hint_names_source_subdir_and_python_path(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import wcc_helpers\n' + GOOD_APP})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    msg = result.result['msg']
    assert "No module named 'wcc_helpers'" in msg
    assert 'add it to the requirements of the release' in msg
    assert 'source.subdir' in msg and 'python_path' in msg


def test_missing_and_not_callable_attribute(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': GOOD_APP + 'settings = {"a": 1}\n'})
    result = run_module(check_args(src, 'hello:application'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    assert "'hello' has no attribute 'application'" in result.result['msg']
    result = run_module(check_args(src, 'hello:settings'))
    assert isinstance(result, AnsibleFailJson)
    assert "'hello:settings' is a dict, not a callable" in result.result['msg']


def test_callable_that_raises(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': '''\
        def app(environ, start_response):
            environ["wsgi.errors"].write("about to fail\\n")
            raise RuntimeError("database is not configured")
        '''})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    result = result.result
    assert result['stage'] == 'call'
    assert 'RuntimeError: database is not configured' in result['msg']
    assert 'GET http://localhost/' in result['msg']
    assert 'about to fail' in result['msg']
    assert result['wsgi_errors'] == ['about to fail']
    assert result['traceback_tail'][-1] == 'RuntimeError: database is not configured'


def test_no_start_response(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'def app(environ, start_response):\n    return []\n'})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'call'
    assert 'start_response()' in result.result['msg']


@pytest.mark.parametrize('body, fragment', [
    ('start_response("200 OK", [])\n    return ["text"]', 'body must be bytes'),
    ('start_response(200, [])\n    return [b""]', 'status must be a str'),
    ('start_response("200 OK", {"a": "b"})\n    return [b""]', 'headers must be a list'),
    ('start_response("200 OK", [("X-A", 1)])\n    return [b""]', 'must be str'),
])
def test_invalid_wsgi_responses(tmp_path, run_module, body, fragment):
    src = make_app(tmp_path, {'hello.py': 'def app(environ, start_response):\n    %s\n' % body})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'call'
    assert fragment in result.result['msg']


def test_close_is_called(tmp_path, run_module):
    marker = tmp_path / 'closed'
    src = make_app(tmp_path, {'hello.py': '''\
        class Body(object):
            def __iter__(self):
                yield b"x"

            def close(self):
                open(%r, "w").close()

        def app(environ, start_response):
            start_response("200 OK", [])
            return Body()
        ''' % str(marker)})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleExitJson), result.result
    assert marker.exists()


def test_status_500_is_refused(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': '''\
        def app(environ, start_response):
            environ["wsgi.errors"].write("Traceback: KeyError 'SECRET_KEY'\\n")
            start_response("500 Internal Server Error", [("Content-Type", "text/html")])
            return [b"<h1>Internal Server Error</h1>", b"x" * 2000]
        '''})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleFailJson)
    result = result.result
    assert result['stage'] == 'status'
    assert "'500 Internal Server Error'" in result['msg']
    assert '<h1>Internal Server Error</h1>' in result['msg']
    assert "KeyError 'SECRET_KEY'" in result['msg']
    assert result['status_code'] == 500
    assert result['body_bytes'] == 2030
    assert len(result['body_excerpt']) == 500


def test_client_errors_pass_by_default(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': '''\
        def app(environ, start_response):
            start_response("404 Not Found", [])
            return [b"no"]
        '''})
    result = run_module(check_args(src, 'hello:app'))
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['status_code'] == 404


def test_expected_status_mismatch(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': '''\
        def app(environ, start_response):
            start_response("302 Found", [("Location", "/login")])
            return [b""]
        '''})
    result = run_module(check_args(src, 'hello:app', expected_status=[200, 204]))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'status'
    # The message names the status received and the expected ones.
    assert result.result['msg'] == ("The request GET http://localhost/ to 'hello:app' answered '302 Found': status 302 "
                                    "is not one of the expected 200, 204.")
    assert (result.result['status'], result.result['status_code']) == ('302 Found', 302)
    assert result.result['headers'] == [['Location', '/login']]
    result = run_module(check_args(src, 'hello:app', expected_status=[200]))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['msg'].endswith("answered '302 Found': status 302 is not one of the expected 200.")
    result = run_module(check_args(src, 'hello:app', expected_status=[302]))
    assert isinstance(result, AnsibleExitJson), result.result


def test_expected_status_decides_alone(tmp_path, run_module):
    # With expected_status, a status below 500 that is not listed fails, and a listed 5xx passes.
    src = make_app(tmp_path, {'hello.py': '''\
        def app(environ, start_response):
            start_response(environ["QUERY_STRING"].replace("+", " "), [])
            return [b""]
        '''})
    result = run_module(check_args(src, 'hello:app', path='/?404+Not+Found', expected_status=[200]))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'status'
    assert "answered '404 Not Found': status 404 is not one of the expected 200." in result.result['msg']
    result = run_module(check_args(src, 'hello:app', path='/?503+Service+Unavailable', expected_status=[200, 503]))
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['status_code'] == 503


def test_timeout_at_import(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import time\nprint("connecting", flush=True)\ntime.sleep(60)\n'})
    result = run_module(check_args(src, 'hello:app', timeout=2))
    assert isinstance(result, AnsibleFailJson)
    result = result.result
    assert result['stage'] == 'timeout'
    assert result['timeout_stage'] == 'import'
    assert 'did not finish within 2 seconds' in result['msg']
    assert "Importing 'hello'" in result['msg']
    assert result['output'] == ['connecting']


def test_timeout_in_call_kills_the_process_group(tmp_path, run_module):
    pidfile = tmp_path / 'pid'
    src = make_app(tmp_path, {'hello.py': '''\
        import subprocess, sys, time

        def app(environ, start_response):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            open(%r, "w").write(str(child.pid))
            time.sleep(60)
        ''' % str(pidfile)})
    result = run_module(check_args(src, 'hello:app', timeout=2))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'timeout'
    assert result.result['timeout_stage'] == 'call'
    assert 'The request GET http://localhost/' in result.result['msg']
    pid = int(pidfile.read_text())
    # SIGKILL is delivered asynchronously: the grandchild is soon gone, or at most a zombie waiting to be reaped.
    deadline = time.time() + 10
    while True:
        try:
            with open('/proc/%d/stat' % pid) as handle:
                state = handle.read().rsplit(') ', 1)[1][0]
        except (IOError, OSError):
            state = None
        if state in (None, 'Z') or time.time() > deadline:
            break
        time.sleep(0.05)
    assert state in (None, 'Z')


def test_background_threads_do_not_keep_the_check_alive(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import threading, time\n'
                                          'threading.Thread(target=time.sleep, args=(60,)).start()\n' + GOOD_APP})
    result = run_module(check_args(src, 'hello:app', timeout=10))
    assert isinstance(result, AnsibleExitJson), result.result


def test_env_reaches_os_environ_before_import(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': '''\
        import os
        if os.environ["MODE"] != "production":
            raise RuntimeError("not configured")
        MODE = os.environ["MODE"]
        TOKEN_LENGTH = str(len(os.environ["API_TOKEN"]))

        def app(environ, start_response):
            start_response("200 OK", [("X-Mode", MODE), ("X-Token-Length", TOKEN_LENGTH),
                                      ("X-Argv", repr(__import__("sys").argv))])
            return [b""]
        '''})
    result = run_module(check_args(src, 'hello:app', env={'MODE': 'production', 'API_TOKEN': 'overridden'},
                                   secret_env={'API_TOKEN': 's3cr3t-value'}))
    assert isinstance(result, AnsibleExitJson), result.result
    headers = dict(result.result['headers'])
    assert headers['X-Mode'] == 'production'
    assert headers['X-Token-Length'] == '12'
    assert headers['X-Argv'] == "['mod_wsgi']"


FACTORY_APP = '''\
import os
import sys

CALLS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log")


def create_app(name, roots=(), options=None, debug=True):
    # The environment the module was given is in os.environ before the factory runs.
    with open(CALLS_FILE, "a") as handle:
        handle.write(repr((name, roots, options, debug, os.environ.get("MODE"), sys.prefix != sys.base_prefix)) + "\\n")

    def app(environ, start_response):
        with open(CALLS_FILE, "a") as handle:
            handle.write("request\\n")
        start_response("200 OK", [("X-Name", name), ("X-Roots", repr(roots))])
        return [b"made by the factory"]
    return app
'''


@pytest.fixture(scope='module')
def real_venv(tmp_path_factory):
    """A real virtualenv (no pip) of this interpreter: the check runs <venv>/bin/python."""
    path = tmp_path_factory.mktemp('venv') / 'venv'
    venv.create(str(path), with_pip=False, symlinks=True)
    return path


def factory_args(src, entry_point, real_venv, **extra):
    args = check_args(src, entry_point, venv=str(real_venv), **extra)
    del args['python']
    return args


def test_factory_with_arguments_is_called_once_in_a_real_venv(tmp_path, run_module, real_venv):
    src = make_app(tmp_path, {'blog.py': FACTORY_APP})
    entry_point = ('blog:create_app("prod", roots=["${MODWSGI_APP_DATA}/packages", "$HOME/x"], '
                   'options={"a": [1, (2, None)], "${MODWSGI_APP}": {"${MODWSGI_APP_RELEASE}"}}, debug=False)')
    env = {'MODE': 'production', 'MODWSGI_APP': 'blog', 'MODWSGI_APP_DATA': '/srv/blog/data'}
    result = run_module(factory_args(src, entry_point, real_venv, env=env,
                                     secret_env={'MODWSGI_APP_RELEASE': '/srv/blog/releases/7'}))
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['status'] == '200 OK'
    assert result.result['body_bytes'] == len(b'made by the factory')
    assert dict(result.result['headers'])['X-Name'] == 'prod'
    calls = (src / 'calls.log').read_text().splitlines()
    assert calls == [repr(('prod', ['/srv/blog/data/packages', '$HOME/x'],
                           {'a': [1, (2, None)], 'blog': {'/srv/blog/releases/7'}}, False, 'production', True)),
                     'request']


def test_factory_without_arguments(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'def make():\n    return app\n\n' + GOOD_APP})
    result = run_module(check_args(src, 'hello:make()'))
    assert isinstance(result, AnsibleExitJson), result.result
    assert result.result['status'] == '200 OK'


def test_request_false_makes_no_wsgi_call(tmp_path, run_module, real_venv):
    src = make_app(tmp_path, {'blog.py': FACTORY_APP})
    result = run_module(factory_args(src, 'blog:create_app("prod")', real_venv, request=False,
                                     expected_status=[418]))
    assert isinstance(result, AnsibleExitJson), result.result
    result = result.result
    assert (src / 'calls.log').read_text().splitlines() == [repr(('prod', (), None, True, None, True))]
    assert set(result['elapsed']) == {'import'} and result['elapsed']['import'] >= 0
    assert result['entry_file'] == str(src / 'blog.py')
    assert result['python_version'] == '%d.%d' % sys.version_info[:2]
    assert not set(result) & {'status', 'status_code', 'headers', 'body_bytes'}


def test_request_false_still_refuses_run_calls_and_what_is_not_callable(tmp_path, run_module):
    src = make_app(tmp_path, {'served.py': 'import flask\napp = flask.Flask(__name__)\napp.run()\n',
                              'hello.py': 'settings = {}\ndef make():\n    return None\n'})
    result = run_module(check_args(src, 'served:app', request=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'run_call'
    result = run_module(check_args(src, 'hello:settings', request=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'import'
    assert result.result['msg'] == ("The entry point 'hello:settings' is wrong: 'hello:settings' is a dict, not a "
                                    "callable (in %s)." % (src / 'hello.py'))
    result = run_module(check_args(src, 'hello:make()', request=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'import'
    assert "the factory 'hello:make' returned NoneType, not a WSGI callable" in result.result['msg']


HGWEB_APP = '''\
import os

CALLS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log")


def hgweb(config, name=None):
    with open(CALLS_FILE, "a") as handle:
        handle.write(repr((config, name)) + "\\n")
    if not os.path.isdir(os.path.dirname(config)):
        raise FileNotFoundError("no such directory: %r" % os.path.dirname(config))

    def app(environ, start_response):
        start_response("200 OK", [("X-Config", repr(config))])
        return [b"hg"]
    return app
'''


def test_load_false_does_not_call_the_factory_before_the_setup_commands(tmp_path, run_module):
    # The app role's order: the import-only check before the setup commands (which make the data directory), the
    # full check after them.
    src = make_app(tmp_path, {'hg.py': HGWEB_APP})
    data = tmp_path / 'data'
    entry_point = 'hg:hgweb(b"${MODWSGI_APP_DATA}/hgweb.config", name={b"${MODWSGI_APP}": "${MODWSGI_APP}"})'
    env = {'MODWSGI_APP': 'hg', 'MODWSGI_APP_DATA': str(data)}
    result = run_module(check_args(src, entry_point, env=env, request=False, load=False))
    assert isinstance(result, AnsibleExitJson), result.result
    result = result.result
    assert not (src / 'calls.log').exists()
    assert set(result['elapsed']) == {'import'} and result['elapsed']['import'] >= 0
    assert result['entry_file'] == str(src / 'hg.py')
    assert result['python_version'] == '%d.%d' % sys.version_info[:2]
    assert not set(result) & {'status', 'status_code', 'headers', 'body_bytes', 'stage'}
    assert result['invocation']['module_args']['load'] is False

    # Without the environment too: nothing is expanded.
    result = run_module(check_args(src, entry_point, request=False, load=False))
    assert isinstance(result, AnsibleExitJson), result.result
    assert not (src / 'calls.log').exists()

    # Loading calls the factory, which fails while the directory is missing.
    result = run_module(check_args(src, entry_point, env=env, request=False))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    assert result.result['msg'].startswith("Calling the factory of the entry point %r failed: FileNotFoundError: "
                                           % entry_point)

    data.mkdir()
    (src / 'calls.log').unlink()
    result = run_module(check_args(src, entry_point, env=env))
    assert isinstance(result, AnsibleExitJson), result.result
    config = os.fsencode(str(data / 'hgweb.config'))
    assert dict(result.result['headers'])['X-Config'] == repr(config)
    assert (src / 'calls.log').read_text().splitlines() == [repr((config, {b'hg': 'hg'}))]


def test_load_false_looks_up_the_callable_or_factory(tmp_path, run_module):
    src = make_app(tmp_path, {
        'hello.py': '''\
            settings = {}

            def make(debug):
                raise RuntimeError("the factory was called")

            def app(environ, start_response):
                raise RuntimeError("the application was called")
            ''',
        'lazy.py': '''\
            def __getattr__(name):
                raise RuntimeError("lazy " + name)
            ''',
        'broken.py': 'import not_installed_anywhere_7f3a\n',
        'served.py': 'import flask\napp = flask.Flask(__name__)\napp.run()\n',
    })
    for entry_point in ('hello:app', 'hello:make()', 'hello:make(debug=True, extra=b"${MODWSGI_APP_CONFIG}")'):
        result = run_module(check_args(src, entry_point, request=False, load=False))
        assert isinstance(result, AnsibleExitJson), (entry_point, result.result)
    for entry_point, fragment in [
            ('hello:missing', "The entry point 'hello:missing' is wrong: 'hello' has no attribute 'missing' (in %s)."),
            ('hello:missing()', "The entry point 'hello:missing()' is wrong: 'hello' has no attribute 'missing' "
                                "(in %s)."),
            ('hello:settings', "The entry point 'hello:settings' is wrong: 'hello:settings' is a dict, not a callable "
                               "(in %s)."),
            ('hello:settings()', "The entry point 'hello:settings()' is wrong: 'hello:settings' is a dict, not a "
                                 "callable (in %s).")]:
        result = run_module(check_args(src, entry_point, request=False, load=False))
        assert isinstance(result, AnsibleFailJson), entry_point
        assert result.result['stage'] == 'import'
        assert result.result['msg'] == fragment % (src / 'hello.py')
    result = run_module(check_args(src, 'lazy:make()', request=False, load=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'import'
    assert result.result['msg'].startswith("Looking up the factory of the entry point 'lazy:make()' failed: "
                                           "RuntimeError: lazy make")
    result = run_module(check_args(src, 'broken:app', request=False, load=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'import'
    assert "No module named 'not_installed_anywhere_7f3a'" in result.result['msg']
    result = run_module(check_args(src, 'served:app', request=False, load=False))
    assert isinstance(result, AnsibleFailJson) and result.result['stage'] == 'run_call'


@pytest.mark.parametrize('entry_point, fragment', [
    ('hello:make(b"${MODWSGI_APP_HOME}")', '${MODWSGI_APP_HOME} is not one of the names expanded'),
    ('hello:make(config)', 'argument 1 (config) is a name'),
])
def test_load_false_still_checks_the_arguments(tmp_path, run_module, entry_point, fragment):
    result = run_module({'python': str(tmp_path / 'never-run'), 'entry_point': entry_point, 'request': False,
                         'load': False})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'arguments'
    assert fragment in result.result['msg']


def test_load_false_needs_request_false(tmp_path, run_module):
    result = run_module({'python': str(tmp_path / 'never-run'), 'entry_point': 'hello:make()', 'load': False})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'arguments'
    assert result.result['msg'] == ('load=false needs request=false: a request needs the application, and with '
                                    'load=false the factory of the entry point is not called. Set request=false for '
                                    'the import-only check, or load=true for the full check.')


def test_load_false_timeout_does_not_mention_the_factory(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import time\ntime.sleep(60)\ndef make():\n    pass\n'})
    result = run_module(check_args(src, 'hello:make()', timeout=2, request=False, load=False))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'timeout' and result.result['timeout_stage'] == 'import'
    assert result.result['msg'].startswith("Importing 'hello' (entry point 'hello:make()') did not finish within 2 "
                                           "seconds")


@pytest.mark.parametrize('entry_point, env, fragment', [
    ('hello:make(debug=True)', {}, "The entry point 'hello:make(debug=True)' is wrong: make() got an unexpected "
                                   "keyword argument 'debug'"),
    ('hello:make(path="${MODWSGI_APP_CONFIG}/x.ini")', {},
     '${MODWSGI_APP_CONFIG} is not set in the environment'),
    ('hello:broken()', {}, "Calling the factory of the entry point 'hello:broken()' failed: RuntimeError: no database"),
])
def test_factory_failures(tmp_path, run_module, entry_point, env, fragment):
    src = make_app(tmp_path, {'hello.py': '''\
        def make(path=None):
            return make

        def broken():
            raise RuntimeError("no database")
        '''})
    result = run_module(check_args(src, entry_point, env=env))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'import'
    assert fragment in result.result['msg'], result.result['msg']
    if 'broken' in entry_point:
        assert result.result['traceback_tail'][-1] == 'RuntimeError: no database'
        assert any('hello.py' in line for line in result.result['traceback_tail'])
        assert not any('wsgi_entry_point.py' in line for line in result.result['traceback_tail'])


def test_plain_entry_point_naming_a_factory_gets_a_hint(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'def create_app():\n    return None\n'})
    result = run_module(check_args(src, 'hello:create_app'))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'call'
    assert "If 'create_app' is an application factory, call it in the entry point: 'hello:create_app()'." \
        in result.result['msg']


def test_factory_that_hangs_times_out_at_import(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'import time\ndef make():\n    time.sleep(60)\n'})
    result = run_module(check_args(src, 'hello:make()', timeout=2))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'timeout' and result.result['timeout_stage'] == 'import'
    assert result.result['msg'].startswith("Importing 'hello' and calling its factory (entry point 'hello:make()') "
                                           "did not finish within 2 seconds")


def test_secret_env_values_are_never_returned(tmp_path, capsys):
    # The real exit path (no patching): Ansible masks the no_log values of secret_env in the output.
    src = make_app(tmp_path, {'hello.py': '''\
        import os

        def app(environ, start_response):
            start_response("500 Internal Server Error", [])
            return [("token=" + os.environ["API_TOKEN"]).encode()]
        '''})
    args = check_args(src, 'hello:app', env={'APP_NAME': 'hello'},
                      secret_env={'API_TOKEN': 's3cr3t-value', 'DEBUG': '0', 'FEATURE': 'On'})
    with module_args(args):
        with pytest.raises(SystemExit):
            wsgi_check.main()
    out = capsys.readouterr().out
    result = json.loads(out[out.index('{'):])
    assert result['failed'] is True
    assert result['stage'] == 'status'
    assert 's3cr3t-value' not in out
    assert 'token=********' in result['msg']
    # Trivial values are not hidden everywhere (that would garble "500"), but never returned as such.
    assert result['status'] == '500 Internal Server Error'
    assert result['invocation']['module_args']['secret_env'] == dict.fromkeys(
        ['API_TOKEN', 'DEBUG', 'FEATURE'], 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')
    # Plain env values are not secrets: an app name in paths and messages stays readable.
    assert result['invocation']['module_args']['env'] == {'APP_NAME': 'hello'}
    assert 'hello.py' in out


def test_python_path_is_used(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'from helpers.answer import VALUE\n' + GOOD_APP})
    lib = tmp_path / 'lib'
    (lib / 'helpers').mkdir(parents=True)
    (lib / 'helpers' / '__init__.py').write_text(u'')
    (lib / 'helpers' / 'answer.py').write_text(u'VALUE = 42\n')
    result = run_module(check_args(src, 'hello:app', python_path=[str(src), str(lib)]))
    assert isinstance(result, AnsibleExitJson), result.result
    result = run_module(check_args(src, 'hello:app', python_path=[str(src)]))
    assert isinstance(result, AnsibleFailJson)
    assert "No module named 'helpers'" in result.result['msg']


def test_chdir_is_used(tmp_path, run_module):
    src = make_app(tmp_path, {'hello.py': 'CONFIG = open("config.ini").read().strip()\n' + GOOD_APP})
    (tmp_path / 'config.ini').write_text(u'ok\n')
    result = run_module(check_args(src, 'hello:app', chdir=str(tmp_path)))
    assert isinstance(result, AnsibleExitJson), result.result
    result = run_module(check_args(src, 'hello:app', chdir=str(tmp_path / 'missing')))
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'setup'
    assert 'cannot change to the directory' in result.result['msg']


@pytest.mark.parametrize('entry_point, fragment', [
    ('hello', 'no colon'),
    ('hello:create_app(os.environ)', 'argument 1 (os.environ) is attribute access, not a Python literal'),
    ('hello:create_app(*args)', '*args is not accepted'),
    ('hello:create_app("${MODWSGI_APP_HOME}")', '${MODWSGI_APP_HOME} is not one of the names expanded'),
    ('hello-world:app', "'hello-world'"),
    ('hello:app:x', 'more than one colon'),
])
def test_entry_point_format_errors(tmp_path, run_module, entry_point, fragment):
    result = run_module({'python': str(tmp_path / 'never-run'), 'entry_point': entry_point})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'arguments'
    msg = result.result['msg']
    assert msg.startswith("entry_point %r must be 'module:callable' (e.g. 'hello:app') or a factory call "
                          "'module:factory()' / 'module:factory(<Python literals>)'" % entry_point)
    assert fragment in msg


@pytest.mark.parametrize('args, fragment', [
    ({'timeout': 0}, 'timeout'),
    ({'expected_status': [2000]}, 'expected_status'),
    ({'script_name': 'api'}, 'script_name'),
    ({'env': {'A=B': 'x'}}, 'env'),
    ({'secret_env': {'A=B': 'x'}}, 'secret_env'),
])
def test_argument_errors(run_module, args, fragment):
    args = dict({'python': sys.executable, 'entry_point': 'hello:app'}, **args)
    result = run_module(args)
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'arguments'
    assert fragment in result.result['msg']


def test_venv_and_python_are_exclusive_and_one_is_required(run_module):
    result = run_module({'entry_point': 'hello:app'})
    assert isinstance(result, AnsibleFailJson)
    assert 'venv' in result.result['msg'] and 'python' in result.result['msg']
    result = run_module({'entry_point': 'hello:app', 'venv': '/nonexistent', 'python': sys.executable})
    assert isinstance(result, AnsibleFailJson)
    assert 'mutually exclusive' in result.result['msg']


def test_venv_without_python(tmp_path, run_module):
    result = run_module({'entry_point': 'hello:app', 'venv': str(tmp_path / 'missing')})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'setup'
    assert 'does not exist' in result.result['msg']
    result = run_module({'entry_point': 'hello:app', 'venv': str(tmp_path)})
    assert isinstance(result, AnsibleFailJson)
    assert 'has no bin/python' in result.result['msg']


def test_venv_interpreter_is_used(tmp_path, run_module):
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    os.symlink(sys.executable, str(venv / 'bin' / 'python'))
    src = make_app(tmp_path, {'hello.py': GOOD_APP})
    args = check_args(src, 'hello:app', venv=str(venv))
    del args['python']
    result = run_module(args)
    assert isinstance(result, AnsibleExitJson), result.result


def test_interpreter_that_cannot_run_the_check(tmp_path, run_module):
    fake = tmp_path / 'python'
    fake.write_text(u'#!/bin/sh\necho "Python 2.7.18" >&2\nexit 1\n')
    fake.chmod(0o755)
    result = run_module({'python': str(fake), 'entry_point': 'hello:app'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'setup'
    assert 'could not run the check' in result.result['msg']
    assert 'Python 2.7.18' in result.result['msg']


def test_run_as_unknown_user(run_module):
    result = run_module({'python': sys.executable, 'entry_point': 'hello:app', 'run_as': 'no-such-user-wsgi-check'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'setup'
    assert "'no-such-user-wsgi-check' does not exist" in result.result['msg']


def test_run_as_other_user_needs_root(monkeypatch, run_module):
    monkeypatch.setattr(wsgi_check.os, 'geteuid', lambda: 54321)
    result = run_module({'python': sys.executable, 'entry_point': 'hello:app', 'run_as': 'root'})
    assert isinstance(result, AnsibleFailJson)
    assert result.result['stage'] == 'setup'
    assert 'needs root privileges' in result.result['msg']


def _nobody():
    try:
        return pwd.getpwnam('nobody')
    except KeyError:
        return None


def _interpreter_for(user):
    """The first of the test interpreter and the system ones that the user can run."""
    candidates = [sys.executable, os.path.realpath(sys.executable), '/usr/bin/python3', '/usr/local/bin/python3']
    for candidate in candidates:
        if not os.path.exists(candidate):
            continue
        try:
            subprocess.check_call([candidate, '-c', 'import sys; assert sys.version_info >= (3, 6)'],
                                  preexec_fn=wsgi_check.make_preexec(RunAs(
                                      user.pw_name, user.pw_uid, user.pw_gid, user.pw_dir, switch=True)),
                                  cwd='/', stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            continue
        return candidate
    return None


@pytest.mark.skipif(os.geteuid() != 0 or _nobody() is None, reason='needs root and a nobody user')
def test_run_as_nobody(run_module):
    # tmp_path is private to root: use a world-readable directory and the real interpreter
    # (the test virtualenv may live under an unreadable home).
    top = tempfile.mkdtemp(prefix='wsgi-check-test-')
    try:
        os.chmod(top, 0o755)
        src = os.path.join(top, 'src')
        os.mkdir(src)
        os.chmod(src, 0o755)
        with open(os.path.join(src, 'hello.py'), 'w') as handle:
            handle.write(textwrap.dedent('''\
                import os

                def app(environ, start_response):
                    start_response("200 OK", [("X-Uid", str(os.getuid())), ("X-Euid", str(os.geteuid())),
                                              ("X-Gid", str(os.getgid())), ("X-Home", os.environ["HOME"]),
                                              ("X-Cwd", os.getcwd())])
                    return [b""]
                '''))
        interpreter = _interpreter_for(_nobody())
        if interpreter is None:
            pytest.skip('no Python 3 interpreter that nobody may run')
        result = run_module({'python': interpreter, 'entry_point': 'hello:app', 'python_path': [src],
                             'chdir': src, 'run_as': 'nobody'})
        assert isinstance(result, AnsibleExitJson), result.result
        nobody = _nobody()
        headers = dict(result.result['headers'])
        assert headers['X-Uid'] == headers['X-Euid'] == str(nobody.pw_uid)
        assert headers['X-Gid'] == str(nobody.pw_gid)
        assert headers['X-Home'] == nobody.pw_dir
        assert headers['X-Cwd'] == src

        # A file only root can read: the permission problem shows up as an import failure.
        os.chmod(os.path.join(src, 'hello.py'), 0o600)
        result = run_module({'python': interpreter, 'entry_point': 'hello:app', 'python_path': [src],
                             'chdir': src, 'run_as': 'nobody'})
        assert isinstance(result, AnsibleFailJson)
        assert result.result['stage'] == 'import'
        assert 'PermissionError' in result.result['msg']
        assert 'runs as nobody' in result.result['msg']
    finally:
        shutil.rmtree(top, ignore_errors=True)
