# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check process of the modwsgi.deploy.wsgi_check module.

The module does not call anything here. It imports this module only so that AnsiballZ ships the
file with it, reads the file's source (``wsgi_check.child_source()``), writes it to a temporary
directory and runs it as a script with the interpreter of the release, as the user the application
runs as. The unit tests import it to test its functions.

As a script it reads its parameters as JSON from standard input and writes its progress and its
result as JSON to the file named by its only argument (standard output belongs to the
application, which may print anything). The module writes the entry point loader
(module_utils/wsgi_entry_point.py, the code the app role inlines into its .wsgi files) next to it:
the application is loaded exactly as under mod_wsgi, a factory called once (with the parameter
load false, the factory is only looked up, not called).

It runs with the release's Python, which need not be the one Ansible uses: only the standard
library may be imported (nothing from ansible), and the code must stay valid for Python 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import importlib.machinery
import importlib.util
import io
import json
import os
import sys
import time
import traceback

TRACEBACK_LINES = 20
BODY_EXCERPT_BYTES = 500
ERRORS_TAIL_CHARS = 4000
IGNORED_RECEIVERS = ('subprocess', 'asyncio')

_RESULT_PATH = None
_STATE = {}


def report(**kwargs):
    """Record progress: the parent reads this file when the process ends or is killed."""
    _STATE.update(kwargs)
    if _RESULT_PATH is None:
        return
    tmp = _RESULT_PATH + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(_STATE, handle)
    os.replace(tmp, _RESULT_PATH)


# ---------------------------------------------------------------------------------------------
# Scan for run() calls executed at import time
# ---------------------------------------------------------------------------------------------

def _is_name(node):
    return isinstance(node, ast.Name) and node.id == '__name__'


def _is_main(node):
    if isinstance(node, ast.Constant):
        return node.value == '__main__'
    if sys.version_info < (3, 8) and isinstance(node, ast.Str):
        return node.s == '__main__'
    return False


def main_guard(test):
    """Which branch of ``if test:`` runs only when the module is run as a script.

    'body' for ``__name__ == "__main__"`` (either order, also combined with ``and``), 'orelse' for
    ``__name__ != "__main__"`` and ``not __name__ == "__main__"``, None for anything else.
    """
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1:
        left, right = test.left, test.comparators[0]
        if (_is_name(left) and _is_main(right)) or (_is_main(left) and _is_name(right)):
            if isinstance(test.ops[0], (ast.Eq, ast.Is)):
                return 'body'
            if isinstance(test.ops[0], (ast.NotEq, ast.IsNot)):
                return 'orelse'
        return None
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        if any(main_guard(value) == 'body' for value in test.values):
            return 'body'
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return {'body': 'orelse', 'orelse': 'body'}.get(main_guard(test.operand))
    return None


def _is_run_call(node):
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr != 'run':
        return False
    return not (isinstance(func.value, ast.Name) and func.value.id in IGNORED_RECEIVERS)


def _defaults(arguments):
    return list(arguments.defaults) + [node for node in arguments.kw_defaults if node is not None]


def _call_text(source, node):
    text = None
    if hasattr(ast, 'get_source_segment'):
        try:
            text = ast.get_source_segment(source, node.func)
        except Exception:
            text = None
    if not text:
        return 'run()'
    text = ' '.join(text.split())
    if len(text) > 60:
        text = '...' + text[-57:]
    return text + '()'


def find_run_calls(source, filename='<unknown>'):
    """Return ``[(line, text)]`` for every ``X.run(...)`` call that runs when the module is imported.

    Function, method and lambda bodies are skipped (their decorators and default values are not), as
    are the branches of ``if`` statements that only run when the module is the main script.
    ``subprocess.run()`` and ``asyncio.run()`` are not reported. Raises SyntaxError.
    """
    tree = ast.parse(source, filename)
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            children = list(node.decorator_list) + _defaults(node.args)
        elif isinstance(node, ast.Lambda):
            children = _defaults(node.args)
        elif isinstance(node, ast.If):
            guard = main_guard(node.test)
            children = [node.test]
            if guard != 'body':
                children.extend(node.body)
            if guard != 'orelse':
                children.extend(node.orelse)
        else:
            if _is_run_call(node):
                found.append(node)
            children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))
    found.sort(key=lambda call: (call.lineno, call.col_offset))
    return [(call.lineno, _call_text(source, call)) for call in found]


def locate(module_name):
    """Find the entry module's spec and the specs of its parent packages without running any code.

    Falls back to importlib.util.find_spec (which imports the parent packages) for modules that only
    a custom finder knows (editable installs). Returns (spec or None, [parent package specs]).
    """
    parts = module_name.split('.')
    parents = []
    search_path = None
    spec = None
    for index in range(len(parts)):
        name = '.'.join(parts[:index + 1])
        spec = importlib.machinery.PathFinder.find_spec(name, search_path)
        if spec is None:
            break
        if index < len(parts) - 1:
            if spec.submodule_search_locations is None:
                spec = None
                break
            parents.append(spec)
            search_path = list(spec.submodule_search_locations)
    if spec is not None:
        return spec, parents
    try:
        return importlib.util.find_spec(module_name), []
    except ImportError as exc:
        missing = getattr(exc, 'name', None)
        if missing and (module_name == missing or module_name.startswith(missing + '.')):
            return None, []
        raise


def _source_file(spec):
    origin = getattr(spec, 'origin', None)
    if origin and getattr(spec, 'has_location', False) and origin.endswith('.py'):
        return origin
    return None


def scan_files(paths):
    """Return ``[{'file', 'line', 'call'}]`` for the files; unreadable or invalid files are left to the import."""
    findings = []
    for path in paths:
        try:
            with open(path, 'rb') as handle:
                source = importlib.util.decode_source(handle.read())
            calls = find_run_calls(source, path)
        except (OSError, SyntaxError, ValueError, UnicodeError):
            continue
        for line, text in calls:
            findings.append({'file': path, 'line': line, 'call': text})
    return findings


# ---------------------------------------------------------------------------------------------
# Import and call
# ---------------------------------------------------------------------------------------------

def exception_summary(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip() if lines else type(exc).__name__


def _internal_frame(filename):
    if filename.startswith('<frozen importlib'):
        return True
    return os.path.abspath(filename) in _INTERNAL_FILES


# The entry point loader (module_utils/wsgi_entry_point.py): the module writes it next to this script, and it is
# next to this file in the collection. Its frames are the check's, not the application's.
LOADER_FILE = 'wsgi_entry_point.py'
_LOADER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), LOADER_FILE)
_INTERNAL_FILES = set([os.path.abspath(__file__), os.path.abspath(importlib.__file__), _LOADER_PATH])


def _drop_internal_frames(summary, depth=0):
    """Keep the application's frames: drop the ones of this script and of importlib."""
    if summary is None or depth > 20:
        return
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if not _internal_frame(frame.filename)])
    _drop_internal_frames(summary.__cause__, depth + 1)
    _drop_internal_frames(summary.__context__, depth + 1)


def traceback_tail(exc, application=True):
    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    if application:
        try:
            _drop_internal_frames(summary)
        except Exception:
            pass
    text = ''.join(summary.format())
    return text.rstrip('\n').splitlines()[-TRACEBACK_LINES:]


def failure(stage, msg, **extra):
    result = {'failed': True, 'stage': stage, 'msg': msg}
    result.update(extra)
    return result


def entry_point_loader(path=_LOADER_PATH):
    """Load the entry point loader from its file, as a module that is not in sys.modules."""
    spec = importlib.util.spec_from_file_location('_modwsgi_deploy_wsgi_entry_point', path)
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    return loader


def _raised_in(exc, path):
    """Whether the innermost frame of the exception's traceback runs the file (the error is not the application's)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path)


def load_application(loader, entry_point, module_name, call_factory=True):
    """Import the entry module, then get the application through the loader as the .wsgi file does (its import
    finds the module imported): look up the callable and call it when it is a factory.

    With call_factory=False the factory is looked up (it must be callable) but not called, and its arguments are not
    expanded; the factory is returned in place of the application.

    Returns (application, None) or (None, failure). A failure raised by the loader itself (a missing attribute,
    something that is not callable, arguments the factory does not take, an unknown ${MODWSGI_APP_*}) has
    'wrong_entry_point'; one the application raised while it was looked up or called has 'loading'.
    """
    try:
        importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: mod_wsgi logs and fails them too
        return None, failure('import', exception_summary(exc), exception=type(exc).__name__,
                             traceback_tail=traceback_tail(exc), sys_path=list(sys.path))
    try:
        return loader.load_application(entry_point, os.environ, call_factory=call_factory), None
    except BaseException as exc:
        if _raised_in(exc, loader.__file__):
            return None, failure('import', str(exc) or exception_summary(exc), wrong_entry_point=True)
        return None, failure('import', exception_summary(exc), exception=type(exc).__name__,
                             traceback_tail=traceback_tail(exc), sys_path=list(sys.path), loading=True)


def _tail(text):
    return text[-ERRORS_TAIL_CHARS:].splitlines()[-TRACEBACK_LINES:]


def _invalid(kind, detail):
    return TypeError('%s: %s (mod_wsgi rejects this response)' % (kind, detail))


def wsgi_call(application, request):
    """Make one request. Returns a result dict (with 'failed' set when the application misbehaves)."""
    errors = io.StringIO()
    environ = {
        'REQUEST_METHOD': request['method'],
        'SCRIPT_NAME': request['script_name'],
        'PATH_INFO': request['path_info'],
        'QUERY_STRING': request['query_string'],
        'REQUEST_URI': request['request_uri'],
        'SERVER_NAME': request['server_name'],
        'SERVER_PORT': request['server_port'],
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'SERVER_SOFTWARE': 'Apache (modwsgi.deploy wsgi_check)',
        'GATEWAY_INTERFACE': 'CGI/1.1',
        'REMOTE_ADDR': '127.0.0.1',
        'HTTP_HOST': request['http_host'],
        'HTTP_USER_AGENT': 'modwsgi.deploy.wsgi_check',
        'HTTP_ACCEPT': '*/*',
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': 'http',
        'wsgi.input': io.BytesIO(b''),
        'wsgi.errors': errors,
        'wsgi.multithread': True,
        'wsgi.multiprocess': True,
        'wsgi.run_once': False,
    }
    try:
        from wsgiref.util import FileWrapper
        environ['wsgi.file_wrapper'] = FileWrapper
    except ImportError:
        pass

    state = {'status': None, 'headers': None, 'sent': False, 'bytes': 0}
    excerpt = bytearray()

    def collect(data):
        if not isinstance(data, bytes):
            raise _invalid('the response body must be bytes', 'got %s %r' % (type(data).__name__, data[:40]))
        if not data:
            return
        if state['status'] is None:
            raise AssertionError('the application sent body data before calling start_response()')
        state['sent'] = True
        state['bytes'] += len(data)
        if len(excerpt) < BODY_EXCERPT_BYTES:
            excerpt.extend(data[:BODY_EXCERPT_BYTES - len(excerpt)])

    def start_response(status, headers, exc_info=None):
        if exc_info:
            try:
                if state['sent']:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif state['status'] is not None:
            raise AssertionError('start_response() was called twice without exc_info')
        if not isinstance(status, str):
            raise _invalid('the status must be a str', 'got %s %r' % (type(status).__name__, status))
        if len(status) < 3 or not status[:3].isdigit() or (len(status) > 3 and status[3] != ' '):
            raise _invalid('the status must look like "200 OK"', 'got %r' % (status,))
        if not isinstance(headers, list):
            raise _invalid('the headers must be a list', 'got %s' % type(headers).__name__)
        for header in headers:
            if not isinstance(header, tuple) or len(header) != 2:
                raise _invalid('each header must be a (name, value) tuple', 'got %r' % (header,))
            for item in header:
                if not isinstance(item, str):
                    raise _invalid('header names and values must be str', 'got %r' % (header,))
                if '\n' in item or '\r' in item:
                    raise _invalid('header names and values must not contain line breaks', 'got %r' % (header,))
        state['status'] = status
        state['headers'] = [[name, value] for name, value in headers]
        return collect

    try:
        iterable = application(environ, start_response)
        try:
            for chunk in iterable:
                collect(chunk)
        finally:
            close = getattr(iterable, 'close', None)
            if close is not None:
                close()
    except BaseException as exc:
        return failure('call', exception_summary(exc), exception=type(exc).__name__,
                       traceback_tail=traceback_tail(exc), wsgi_errors=_tail(errors.getvalue()))
    if state['status'] is None:
        return failure('call', 'the application returned without calling start_response()',
                       wsgi_errors=_tail(errors.getvalue()))
    return {
        'status': state['status'],
        'status_code': int(state['status'][:3]),
        'headers': state['headers'],
        'body_bytes': state['bytes'],
        'body_excerpt': bytes(excerpt).decode('utf-8', 'replace'),
        'wsgi_errors': _tail(errors.getvalue()),
    }


def check(params):
    warnings = []
    report(stage='setup', warnings=warnings)
    loader = entry_point_loader()
    sys.argv[:] = ['mod_wsgi']
    for name, value in params['env'].items():
        os.environ[name] = value
    try:
        os.chdir(params['cwd'])
    except OSError as exc:
        return failure('setup', 'cannot change to the directory %s: %s' % (params['cwd'], exc.strerror or exc))
    sys.path[0:0] = params['python_path']
    importlib.invalidate_caches()

    try:
        module_name = loader.parse_entry_point(params['entry_point'])['module']
    except ValueError as exc:
        return failure('import', str(exc), wrong_entry_point=True)
    report(stage='scan')
    try:
        spec, parents = locate(module_name)
    except BaseException as exc:  # a parent package failed while a custom finder searched for the module
        return failure('import', exception_summary(exc), exception=type(exc).__name__,
                       traceback_tail=traceback_tail(exc), sys_path=list(sys.path))
    if spec is None:
        return failure('import', 'module %r was not found' % module_name, not_found=True, sys_path=list(sys.path))
    entry_file = spec.origin if getattr(spec, 'has_location', False) else None
    report(entry_file=entry_file)
    paths = [path for path in (_source_file(parent) for parent in parents) if path]
    if _source_file(spec):
        paths.append(_source_file(spec))
    elif entry_file:
        warnings.append('%s is not a Python source file; it was not checked for run() calls.' % entry_file)
    findings = scan_files(paths)
    if findings:
        return failure('run_call', 'run() at import time', run_calls=findings)

    report(stage='import')
    started = time.monotonic()
    application, problem = load_application(loader, params['entry_point'], module_name,
                                            call_factory=params.get('load', True))
    elapsed_import = time.monotonic() - started
    report(elapsed={'import': round(elapsed_import, 4)})
    if problem:
        return problem
    if params['request'] is None:  # import only (and, with load false, the factory not called)
        return {}

    report(stage='call')
    started = time.monotonic()
    result = wsgi_call(application, params['request'])
    report(elapsed={'import': round(elapsed_import, 4), 'call': round(time.monotonic() - started, 4)})
    return result


def main():
    global _RESULT_PATH
    _RESULT_PATH = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or '.') == here:
        del sys.path[0]
    report(stage='start', python_version='%d.%d' % sys.version_info[:2], python_executable=sys.executable)
    params = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)
    try:
        outcome = check(params)
    except BaseException as exc:
        outcome = failure('setup', 'the check itself failed: %s' % exception_summary(exc),
                          traceback_tail=traceback_tail(exc, application=False))
    try:
        report(done=True, **outcome)
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        # Threads the application started must not keep the process alive.
        os._exit(0)


if __name__ == '__main__':
    main()
