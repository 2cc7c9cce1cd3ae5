#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: modwsgi.deploy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r"""
---
module: wsgi_check
short_description: Check that a WSGI application would work under mod_wsgi
version_added: 0.1.0
description:
  - Checks a WSGI application in its own virtualenv before traffic is switched to it, and fails with a message
    that says what is wrong and how to fix it when the application would not work under mod_wsgi.
  - The check runs in a separate process started with the interpreter of O(venv) (or O(python)), as the user
    O(run_as), in O(chdir), with O(python_path) in front of C(sys.path) and O(env) in C(os.environ).
  - "First, the file of the entry module (and the C(__init__.py) of each package it is in) is located without
    running it and parsed with C(ast). Every call of a method named C(run) (such as C(app.run)) that runs at
    import time is refused: a call at module level, or inside module-level C(if), C(try), C(with), C(for) or C(while) blocks, that is not under
    C(if __name__ == \"__main__\":). Under mod_wsgi such a call starts a second development server inside
    Apache, or ends with C(SystemExit ignored) in the error log. Calls inside functions and methods, and calls
    of C(subprocess.run) and C(asyncio.run), are not refused."
  - Then the entry module is imported and the application is loaded with the same code the C(.wsgi) files of the
    P(modwsgi.deploy.app#role) role run under mod_wsgi, so a factory is called once, as there, after O(env) is in
    C(os.environ). Any exception, including C(SystemExit), fails the check with the last lines of its traceback.
  - With O(load=false), the entry module is imported and the callable or the factory is looked up (it must exist and
    be callable), but a factory is not called, and C(${MODWSGI_APP_...}) in its arguments is not replaced (the
    arguments are still checked to be Python literals that use only the names listed under O(entry_point)).
  - Finally, unless O(request=false), one request is made by calling the application directly with a PEP 3333
    environ (no network is used). The check fails when the application raises, never calls C(start_response),
    returns something that mod_wsgi would reject (a status or headers that are not strings, a body that is not
    bytes), or answers with a status of 500 or above (or, with O(expected_status), a status not in that list).
  - The module never changes anything on the target, but importing the entry point runs the application's
    module-level code, with whatever side effects it has, as O(run_as).
  - Python 3.6 or later is needed in the checked environment.
author: modwsgi.deploy contributors (!UNKNOWN)
options:
  venv:
    description:
      - Path of the virtualenv of the release. The check runs C(<venv>/bin/python).
      - Exactly one of O(venv) and O(python) is required.
    type: path
  python:
    description:
      - Path of the Python interpreter to run the check with, instead of the one of O(venv).
      - Exactly one of O(venv) and O(python) is required.
    type: path
  entry_point:
    description:
      - The WSGI application, in one of three forms.
      - V(package.module:callable), the WSGI callable itself, for example V(mysite.wsgi:application) or
        V(hello:app). The part after the colon may be a dotted attribute path (V(myapp.server:app.wsgi_app)).
      - V(package.module:factory(\)), a factory called without arguments that returns the WSGI callable, for
        example V(blog:create_app(\)).
      - V(package.module:factory(<arguments>\)), a factory called with positional and keyword arguments, each a
        Python literal (a string, number, V(True), V(False), V(None), or a list, tuple, dict or set of them), for
        example V(blog:create_app("prod", debug=False\)) or V(pypiserver:app(roots=["${MODWSGI_APP_DATA}/packages"]\)).
        The arguments are read with C(ast.literal_eval), never evaluated; names, calls, attribute access,
        C(*args) and C(**kwargs) are refused. Only one call, at the end, is allowed.
      - In the strings and bytes of the arguments (also inside lists, tuples, dicts and sets, keys included),
        C(${MODWSGI_APP}), C(${MODWSGI_APP_ROOT}), C(${MODWSGI_APP_DATA}), C(${MODWSGI_APP_CONFIG}) and
        C(${MODWSGI_APP_RELEASE}) are replaced with the value of that environment variable (from O(env),
        O(secret_env) or the module's environment; the P(modwsgi.deploy.app#role) role sets them for its apps). In
        bytes, the value is encoded as a file name is (C(os.fsencode)), for example
        V(mercurial.hgweb:hgweb(b"${MODWSGI_APP_DATA}/hgweb.config"\)). Any other C($) is left alone; another
        C(${MODWSGI_APP_...}) name fails the check, and so does one that is not set, unless O(load=false).
    type: str
    required: true
  python_path:
    description:
      - Directories put in front of C(sys.path), in this order, before the entry module is located and imported;
        usually the source directory of the release.
    type: list
    elements: path
    default: []
  chdir:
    description:
      - Working directory of the check, usually the release directory.
      - When omitted, the home directory of O(run_as) is used (as for a mod_wsgi daemon process without C(home=)),
        or C(/) when it does not exist. Without O(run_as) the module's own working directory is kept.
    type: path
  env:
    description:
      - Environment variables set in C(os.environ) before the entry module is located and imported. Values are
        converted to strings.
      - Variables of the module's environment whose names start with C(PYTHON) are not passed on.
      - Use O(secret_env) for values that must not appear in the output.
    type: dict
    default: {}
  secret_env:
    description:
      - Like O(env), for secrets; set after O(env), so a name in both takes this value.
      - The values are never returned, and Ansible hides every other place in the output where one of them
        appears. Values shorter than three characters and the words V(true), V(false), V(yes), V(no), V(on),
        V(off), V(none) and V(null) (in any case) are not hidden there, as they cannot be secrets and hiding them
        would garble status lines, line numbers and versions.
    type: dict
    default: {}
  run_as:
    description:
      - Name of the user to run the check as, with its primary group and supplementary groups; C(HOME), C(USER)
        and C(LOGNAME) are set for that user.
      - Use the user the application runs as under mod_wsgi, so that permission problems show up here.
      - Needs root privileges unless it names the user the module already runs as.
      - When omitted, the check runs as the user the module runs as.
    type: str
  path:
    description:
      - Path of the request inside the application (C(PATH_INFO)), optionally with a query string
        (V(/health?full=1)). Percent-encoded characters are decoded as a web server does.
    type: str
    default: /
  host:
    description:
      - Value of the C(Host) header, optionally with a port (V(example.com:8080)). It also gives C(SERVER_NAME) and
        C(SERVER_PORT) (80 when no port is given).
      - Use the server name of the virtual host; frameworks that check the host name (Django's C(ALLOWED_HOSTS))
        answer 400 to other names.
    type: str
    default: localhost
  script_name:
    description:
      - The mount point of the application (C(SCRIPT_NAME)), for example V(/api). V(/) and the empty string both
        mean the application is mounted at the root.
    type: str
    default: ''
  method:
    description:
      - HTTP method of the request. The request has no body.
    type: str
    choices: [GET, HEAD]
    default: GET
  timeout:
    description:
      - Seconds the whole check (interpreter start, import and request) may take. When they are exceeded, the
        check process and every process it started are killed and the module fails, saying whether the import
        or the request did not finish.
    type: int
    default: 30
  expected_status:
    description:
      - HTTP status codes the request must answer with.
      - When empty, any status below 500 passes.
    type: list
    elements: int
    default: []
  request:
    description:
      - Whether to make the request. With V(false) the check only scans the entry module for C(run) calls,
        imports it and loads the application (calling its factory, unless O(load=false)), and makes no WSGI call;
        O(path), O(host), O(script_name), O(method) and O(expected_status) are not used then.
      - The P(modwsgi.deploy.app#role) role first checks the import only (O(request=false), O(load=false)), before
        it runs the app's setup and migration commands, which may create what the factory needs (such as a
        directory its arguments name); after them it makes the full check (O(request=true)). A factory is called
        only in the full check.
    type: bool
    default: true
  load:
    description:
      - Whether to load the application, calling the factory of a V(module:factory(...\)) entry point.
      - With V(false), the entry module is scanned for C(run) calls and imported, and the callable (V(module:callable))
        or the factory (V(module:factory(...\))) is looked up and must exist and be callable; a factory is not
        called, and C(${MODWSGI_APP_...}) in its arguments is not replaced with values from the environment (so
        arguments naming a directory that does not exist yet pass). The arguments are still parsed and checked as
        described under O(entry_point).
      - V(false) needs O(request=false); with O(request=true) the module fails (RV(stage=arguments)).
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The check also runs in check mode. It changes nothing, but importing the entry point runs the
      application's module-level code.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The application is called in-process with C(wsgi.multithread) and C(wsgi.multiprocess) both true, as in a
    mod_wsgi daemon process group with several processes and threads, C(wsgi.url_scheme=http) and C(wsgi.file_wrapper).
  - Standard input of the check process is C(/dev/null); C(sys.argv) is V(["mod_wsgi"]) as under mod_wsgi.
  - No bytecode files are written next to the application's source.
seealso:
  - name: mod_wsgi documentation
    description: Documentation of the mod_wsgi Apache module.
    link: https://modwsgi.readthedocs.io/
  - name: PEP 3333
    description: The Python Web Server Gateway Interface.
    link: https://peps.python.org/pep-3333/
  - module: modwsgi.deploy.mod_wsgi_info
"""

EXAMPLES = r"""
- name: Check the new release before switching traffic to it
  modwsgi.deploy.wsgi_check:
    venv: /srv/www/hello/releases/20240101/venv
    entry_point: hello:app
    python_path:
      - /srv/www/hello/releases/20240101/src
    chdir: /srv/www/hello/releases/20240101
    run_as: hello
    host: hello.example.com
  become: true

- name: Check a Django project mounted at /shop, with its settings
  modwsgi.deploy.wsgi_check:
    venv: /srv/www/shop/releases/42/venv
    entry_point: shop.wsgi:application
    python_path: [/srv/www/shop/releases/42/src]
    chdir: /srv/www/shop/releases/42
    run_as: shop
    host: www.example.com
    script_name: /shop
    path: /health/
    expected_status: [200]
    env:
      DJANGO_SETTINGS_MODULE: shop.settings.production
    secret_env:
      DJANGO_SECRET_KEY: "{{ vault_shop_secret_key }}"
    timeout: 60
  become: true
  register: shop_check

- name: Check that a factory with arguments builds the application, without a request
  modwsgi.deploy.wsgi_check:
    venv: /srv/www/packages/releases/7/venv
    entry_point: pypiserver:app(roots=["${MODWSGI_APP_DATA}/packages"], password_file=None)
    env:
      MODWSGI_APP_DATA: /srv/www/packages/data
    run_as: packages
    request: false
  become: true

- name: Check that the entry module imports and names a factory, before the setup commands create its directories
  modwsgi.deploy.wsgi_check:
    venv: /srv/www/hg/releases/3/venv
    entry_point: mercurial.hgweb:hgweb(b"${MODWSGI_APP_DATA}/hgweb.config")
    run_as: hg
    request: false
    load: false
  become: true

- name: Show how long the application takes to start
  ansible.builtin.debug:
    msg: "import {{ shop_check.elapsed.import }}s, first request {{ shop_check.elapsed.call }}s"
"""

RETURN = r"""
status:
  description: Status line of the response, as passed to C(start_response).
  returned: success when O(request=true), and on failure when RV(stage=status)
  type: str
  sample: 200 OK
status_code:
  description: Numeric HTTP status of the response.
  returned: success when O(request=true), and on failure when RV(stage=status)
  type: int
  sample: 200
headers:
  description: Response headers, in the order the application gave them, each as a C([name, value]) list.
  returned: success when O(request=true), and on failure when RV(stage=status)
  type: list
  elements: list
  sample: [["Content-Type", "text/html; charset=utf-8"], ["Content-Length", "13"]]
body_bytes:
  description: Length of the response body in bytes.
  returned: success when O(request=true), and on failure when RV(stage=status)
  type: int
  sample: 13
elapsed:
  description: Seconds taken by the import of the entry point and by the request.
  returned: success
  type: dict
  contains:
    import:
      description: Seconds taken to import the entry module and load the application (calling its factory), or, with
        O(load=false), to import it and look up the callable or factory.
      returned: success
      type: float
      sample: 0.412
    call:
      description: Seconds taken by the request, from calling the application to closing its response.
      returned: success when O(request=true)
      type: float
      sample: 0.0153
  sample:
    import: 0.412
    call: 0.0153
entry_file:
  description:
    - Path of the entry module's file, the file that was parsed.
    - V(null) when the module has no file (a namespace package).
  returned: success, and on failure once known
  type: str
  sample: /srv/www/hello/releases/20240101/src/hello/__init__.py
python_version:
  description: Python C(X.Y) version of the interpreter that ran the check.
  returned: success, and on failure once known
  type: str
  sample: "3.13"
stage:
  description:
    - The step that failed. V(arguments) (bad option values), V(setup) (interpreter, user or working directory),
      V(run_call) (a C(run) call at import time), V(import) (importing the entry module, looking up the callable or
      the factory, or calling the factory), V(call) (the request raised or was not valid WSGI), V(status) (a status
      of 500 or above, or one not in O(expected_status); the message names the expected statuses and the status
      received), V(timeout).
    - The module returns no stage on success; what ran follows from O(request) and O(load) (see RV(elapsed)).
  returned: failure
  type: str
  sample: run_call
timeout_stage:
  description: The step that did not finish in time, V(import), V(call) or V(setup).
  returned: failure, when RV(stage=timeout)
  type: str
  sample: import
run_calls:
  description: The C(run) calls found at import time.
  returned: failure, when RV(stage=run_call)
  type: list
  elements: dict
  sample: [{"file": "/srv/www/hello/releases/1/src/hello.py", "line": 12, "call": "app.run()"}]
traceback_tail:
  description: Last lines of the traceback of the exception that failed the import or the request.
  returned: failure, when RV(stage) is V(import) or V(call) because of an exception
  type: list
  elements: str
body_excerpt:
  description: The first 500 bytes of the response body, decoded as UTF-8.
  returned: failure, when RV(stage=status)
  type: str
wsgi_errors:
  description: Last lines written to C(wsgi.errors) during the request.
  returned: failure, when RV(stage) is V(call) or V(status)
  type: list
  elements: str
output:
  description: Last lines the check process (the application) wrote to its standard output and error.
  returned: failure, when the check process ran
  type: list
  elements: str
"""

import json
import os
import re
import shutil
import signal
import stat
import tempfile
from urllib.parse import unquote
# module.run_command() cannot be used: the check needs a time limit, its own process group (to kill everything
# the application starts) and a switch to another user before exec.
from subprocess import PIPE, Popen, SubprocessError, TimeoutExpired

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text

# The program of the check process, which runs with the release's interpreter. Imported only so that AnsiballZ
# ships its file with this module: child_source() reads that file.
from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_check_child
# The entry point loader: parses entry_point here, and its file goes next to the check process's program, which
# loads the application with it as the app role's .wsgi files do (loader_source()).
from ansible_collections.modwsgi.deploy.plugins.module_utils import wsgi_entry_point
from ansible_collections.modwsgi.deploy.plugins.module_utils.run_as import (
    RunAsError, child_environment, env_strings, make_preexec, relax_masking, resolve_user)


TAIL_LINES = 20
# secret_env values that are not hidden in the output (see relax_masking).
OUTPUT_TAIL_BYTES = 16384
MAX_RESULT_BYTES = 4 * 1024 * 1024

RUN_CALL_HELP = (
    'Under mod_wsgi this call starts a second (development) server inside the Apache process, or '
    'fails with "SystemExit ignored" in the error log, and the application never answers. Remove '
    'the call (start the development server from a separate run.py) or move it under '
    "'if __name__ == \"__main__\":'."
)

_HOST_RE = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[^:\[\]/\s@?#]+)(?::(\d{1,5}))?$')


class CheckFailed(Exception):
    """A failure to report with fail_json."""

    def __init__(self, stage, msg, **extra):
        super(CheckFailed, self).__init__(msg)
        self.stage = stage
        self.msg = msg
        self.extra = extra


# ---------------------------------------------------------------------------
# Pure helpers (no host access); unit tested directly.
# ---------------------------------------------------------------------------

def build_request(path, host, script_name, method='GET'):
    """Return the request parts of the WSGI environ. Raises ValueError."""
    path = path or '/'
    if not path.startswith('/'):
        raise ValueError('path %r must start with "/".' % path)
    if '#' in path:
        path = path.split('#', 1)[0]
    raw_path, query = (path.split('?', 1) + [''])[:2]
    script_name = script_name or ''
    if script_name and not script_name.startswith('/'):
        raise ValueError('script_name %r must start with "/" (or be empty for an application mounted at the root).'
                         % script_name)
    if any(char in script_name for char in '?#'):
        raise ValueError('script_name %r must be a plain URL path.' % script_name)
    script_name = script_name.rstrip('/')
    match = _HOST_RE.match(host or '')
    if not match or (match.group(2) is not None and not 0 < int(match.group(2)) < 65536):
        raise ValueError("host %r is not a host name with an optional port, such as 'www.example.com' or "
                         "'www.example.com:8080'." % host)
    return {
        'method': method,
        'script_name': unquote(script_name, encoding='latin-1'),
        'path_info': unquote(raw_path, encoding='latin-1'),
        'query_string': query,
        'request_uri': script_name + path,
        'server_name': match.group(1),
        'server_port': match.group(2) or '80',
        'http_host': host,
    }


def check_status(status_code, expected_status):
    """Return None when the status passes, else the reason it does not."""
    if expected_status:
        if status_code not in expected_status:
            return 'status %d is not one of the expected %s' % (status_code, ', '.join(str(code) for code in expected_status))
        return None
    if status_code >= 500:
        return 'status %d means the application failed (any status below 500 passes)' % status_code
    return None


def format_run_calls(findings):
    lines = ['%s:%d: %s runs at import time (it is not under \'if __name__ == "__main__":\').'
             % (item['file'], item['line'], item['call']) for item in findings]
    return '\n'.join(lines + [RUN_CALL_HELP])


def tail_lines(text, count=TAIL_LINES):
    lines = (text or '').rstrip('\n').splitlines()
    return lines[-count:] if text else []


# ---------------------------------------------------------------------------
# Host access
# ---------------------------------------------------------------------------

def find_interpreter(venv, python):
    """Return the interpreter to run. Raises CheckFailed."""
    if venv:
        if not os.path.isdir(venv):
            raise CheckFailed('setup', 'The virtualenv %s does not exist.' % venv)
        candidate = os.path.join(venv, 'bin', 'python')
        if not os.path.exists(candidate):
            raise CheckFailed('setup', '%s has no bin/python: it is not a virtualenv, or it is broken (its base '
                                       'interpreter is gone). Recreate it.' % venv)
    else:
        candidate = python
        if not os.path.exists(candidate):
            raise CheckFailed('setup', 'The interpreter %s does not exist.' % candidate)
    if os.path.isdir(candidate) or not os.access(candidate, os.X_OK):
        raise CheckFailed('setup', '%s is not an executable file.' % candidate)
    return candidate


def working_directory(chdir, user):
    if chdir:
        return chdir
    if user is not None:
        return user.home if os.path.isdir(user.home) else '/'
    return os.getcwd()


def read_result(path, user):
    """Read the child's result file safely (it is written by a less privileged user)."""
    flags = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RESULT_BYTES:
            return {}
        if user is not None and user.switch and info.st_uid != user.uid:
            return {}
        data = b''
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        result = json.loads(to_text(data, errors='surrogate_or_replace'))
    except ValueError:
        return {}
    return result if isinstance(result, dict) else {}


def read_tail(handle):
    handle.flush()
    size = os.fstat(handle.fileno()).st_size
    handle.seek(max(0, size - OUTPUT_TAIL_BYTES))
    return tail_lines(to_text(handle.read(), errors='surrogate_or_replace'))


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def module_source(module, what):
    """Return the source of an imported module_utils module as bytes.

    It is read through the loader of the imported module, so it comes from wherever that module was imported
    from: the AnsiballZ zip on the target (zipimport), or a directory (a collection tree, or a payload that
    AnsiballZ's explode subcommand unpacked).
    """
    path = module.__file__
    try:
        data = module.__spec__.loader.get_data(path)
    except (AttributeError, OSError) as exc:
        raise CheckFailed('setup', 'Cannot read %s, %s: %s' % (what, path, to_native(exc)))
    if not data:  # the controller's collection loader returns None for a missing file
        raise CheckFailed('setup', 'Cannot read %s, %s: it is missing or empty.' % (what, path))
    return data


def child_source():
    """The program of the check process (module_utils/wsgi_check_child.py)."""
    return module_source(wsgi_check_child, 'the program of the check process')


def loader_source():
    """The entry point loader (module_utils/wsgi_entry_point.py), which the check process loads from its directory."""
    return module_source(wsgi_entry_point, 'the entry point loader of the check process')


def run_child(interpreter, params, user, timeout):
    """Run the check process. Returns (result dict, output lines, timed_out, returncode)."""
    top = tempfile.mkdtemp(prefix='wsgi_check.')
    try:
        os.chmod(top, 0o711)
        script = os.path.join(top, 'wsgi_check_child.py')
        for path, data in ((script, child_source()), (os.path.join(top, wsgi_check_child.LOADER_FILE), loader_source())):
            with open(path, 'wb') as handle:
                handle.write(data)
            os.chmod(path, 0o644)
        results = os.path.join(top, 'result')
        os.mkdir(results, 0o700)
        if user is not None and user.switch:
            os.chown(results, user.uid, user.gid)
        result_path = os.path.join(results, 'result.json')
        with open(os.path.join(top, 'output.log'), 'w+b') as output:
            try:
                proc = Popen(
                    [interpreter, '-B', script, result_path],
                    stdin=PIPE, stdout=output, stderr=output,
                    cwd=top, env=child_environment(user), close_fds=True,
                    start_new_session=True, preexec_fn=make_preexec(user))
            except (OSError, SubprocessError) as exc:
                raise CheckFailed('setup', 'Cannot run %s%s: %s'
                                  % (interpreter, ' as %s' % user.name if user else '', to_native(exc)))
            timed_out = False
            try:
                proc.communicate(json.dumps(params).encode('utf-8'), timeout=timeout)
            except TimeoutExpired:
                timed_out = True
                kill_group(proc.pid)
                proc.wait()
            finally:
                # Whatever the application started in the background goes too.
                kill_group(proc.pid)
            return read_result(result_path, user), read_tail(output), timed_out, proc.returncode
    finally:
        shutil.rmtree(top, ignore_errors=True)


def describe_request(request):
    return '%s http://%s%s' % (request['method'], request['http_host'], request['request_uri'])


def indent(lines):
    return '\n'.join('    ' + line for line in lines)


def run_check(module):
    params = module.params
    try:
        entry_point = wsgi_entry_point.parse_entry_point(params['entry_point'])
        request = build_request(params['path'], params['host'], params['script_name'], params['method'])
    except ValueError as exc:
        raise CheckFailed('arguments', to_native(exc))
    if not params['load'] and params['request']:
        raise CheckFailed('arguments', 'load=false needs request=false: a request needs the application, and with '
                                       'load=false the factory of the entry point is not called. Set request=false '
                                       'for the import-only check, or load=true for the full check.')
    if params['timeout'] < 1:
        raise CheckFailed('arguments', 'timeout must be at least 1 second, not %d.' % params['timeout'])
    for option in ('env', 'secret_env'):
        for name, value in env_strings(params[option]).items():
            if not name or '=' in name or '\x00' in name or '\x00' in value:
                raise CheckFailed('arguments', '%s: %r is not a valid environment variable name, or its value '
                                               'contains a NUL character.' % (option, name))
    for code in params['expected_status']:
        if not 100 <= code <= 599:
            raise CheckFailed('arguments', 'expected_status: %d is not an HTTP status code.' % code)

    interpreter = find_interpreter(params['venv'], params['python'])
    user = resolve_user(params['run_as'])
    child_params = {
        'entry_point': params['entry_point'],
        'python_path': params['python_path'],
        'cwd': working_directory(params['chdir'], user),
        'env': dict(env_strings(params['env']), **env_strings(params['secret_env'])),
        'request': request if params['request'] else None,
        'load': params['load'],
    }
    result, output, timed_out, returncode = run_child(interpreter, child_params, user, params['timeout'])

    entry = params['entry_point']
    module_name = entry_point['module']
    info = dict((key, result[key]) for key in ('python_version', 'entry_file') if key in result)
    info['output'] = output
    for warning in result.get('warnings') or []:
        module.warn(warning)
    stage = result.get('stage')
    as_user = ' as %s' % user.name if user else ''
    target = describe_request(request)
    calls_factory = entry_point['call'] and params['load']

    if timed_out:
        if stage == 'import':
            msg = ('Importing %r%s (entry point %r) did not finish within %d seconds; the check was stopped. '
                   'Something blocks at import time: a server started without an \'if __name__ == "__main__":\' '
                   'guard (app.run(), serve_forever()), a connection to a service that does not answer, or a '
                   'wait for input.' % (module_name, ' and calling its factory' if calls_factory else '',
                                        entry, params['timeout']))
        elif stage == 'call':
            msg = ('The request %s to %r did not finish within %d seconds; the check was stopped. The application '
                   'hangs on this request (a service it waits for does not answer?) or needs a longer timeout.'
                   % (target, entry, params['timeout']))
        else:
            msg = ('The check of %r did not finish within %d seconds (it was at the step %r); the check was '
                   'stopped. Raise timeout if the host is slow.' % (entry, params['timeout'], stage or 'start'))
            stage = 'setup'
        if output:
            msg += '\nLast output of the application:\n' + indent(output)
        raise CheckFailed('timeout', msg, timeout_stage=stage, **info)

    if not result.get('done'):
        if not result:
            msg = ('%s could not run the check%s (exit code %s). The check needs Python 3.6 or later.'
                   % (interpreter, as_user, returncode))
        else:
            msg = ('The check process%s ended with exit code %s during the step %r without reporting a result '
                   '(the application called os._exit() or crashed).' % (as_user, returncode, stage))
        if output:
            msg += '\nLast output:\n' + indent(output)
        raise CheckFailed(stage if stage in ('import', 'call') else 'setup', msg, returncode=returncode, **info)

    if result.get('failed'):
        stage = result.get('stage')
        extra = dict(info)
        for key in ('traceback_tail', 'wsgi_errors', 'run_calls'):
            if result.get(key):
                extra[key] = result[key]
        if stage == 'run_call':
            raise CheckFailed(stage, format_run_calls(result['run_calls']), **extra)
        if stage == 'import':
            if result.get('not_found'):
                msg = ('The entry module %r (entry point %r) was not found by %s%s in the directories on sys.path: '
                       '%s. Either entry_point names the wrong module, or the directory that contains it (usually '
                       'the source directory of the release) is not on sys.path: with the app role, source.subdir '
                       'decides which directory of the source is on sys.path (the top of the source when it is '
                       'empty); with the wsgi_check module, python_path does.'
                       % (module_name, entry, interpreter, as_user, ', '.join(result.get('sys_path') or [])))
            elif result.get('wrong_entry_point'):
                msg = 'The entry point %r is wrong: %s' % (entry, result['msg'])
                if result.get('entry_file'):
                    msg += ' (in %s)' % result['entry_file']
                msg = msg.rstrip('.') + '.'
            else:
                if result.get('loading') and calls_factory:
                    msg = 'Calling the factory of the entry point %r failed: %s' % (entry, result['msg'])
                elif result.get('loading'):
                    msg = 'Looking up the %s of the entry point %r failed: %s' % (
                        'factory' if entry_point['call'] else 'callable', entry, result['msg'])
                else:
                    msg = 'Importing %r (entry point %r) failed: %s' % (module_name, entry, result['msg'])
                if result.get('exception') == 'SystemExit':
                    msg += ('\nThe module raised SystemExit (for example through sys.exit) while being imported; under '
                            'mod_wsgi this is logged as "SystemExit ignored" and the application never answers.')
                elif result.get('exception') == 'ModuleNotFoundError':
                    msg += ('\nA module the application imports is not installed in the environment of %s: add it '
                            'to the requirements of the release. If it is part of the source, its directory must be '
                            'on sys.path: with the app role, source.subdir decides which directory of the source '
                            'is; with the wsgi_check module, python_path does.' % interpreter)
                elif result.get('exception') == 'PermissionError' and user:
                    msg += ('\nThe application runs as %s under mod_wsgi: give that user access to the files it '
                            'needs.' % user.name)
                if result.get('traceback_tail'):
                    msg += '\nLast lines of the traceback:\n' + indent(result['traceback_tail'])
            raise CheckFailed(stage, msg, **extra)
        if stage == 'call':
            msg = 'The request %s to %r failed: %s' % (target, entry, result['msg'])
            if (result.get('exception') == 'TypeError' and 'positional argument' in result['msg']
                    and not entry_point['call']):
                msg += ('\nIf %r is an application factory, call it in the entry point: %r.'
                        % (entry.split(':', 1)[1], entry + '()'))
            if result.get('traceback_tail'):
                msg += '\nLast lines of the traceback:\n' + indent(result['traceback_tail'])
            if result.get('wsgi_errors'):
                msg += '\nLast lines written to wsgi.errors:\n' + indent(result['wsgi_errors'])
            raise CheckFailed(stage, msg, **extra)
        msg = result.get('msg') or 'The check failed.'
        if result.get('traceback_tail'):
            msg += '\nLast lines of the traceback:\n' + indent(result['traceback_tail'])
        raise CheckFailed(stage or 'setup', msg, **extra)

    elapsed = result.get('elapsed') or {}
    if not params['request']:
        return dict(changed=False, elapsed={'import': elapsed.get('import')}, entry_file=result.get('entry_file'),
                    python_version=result.get('python_version'))

    response = dict(
        status=result['status'],
        status_code=result['status_code'],
        headers=result['headers'],
        body_bytes=result['body_bytes'],
    )
    problem = check_status(result['status_code'], params['expected_status'])
    if problem:
        msg = 'The request %s to %r answered %r: %s.' % (target, entry, result['status'], problem)
        if result.get('body_excerpt'):
            msg += '\nStart of the response body:\n' + indent(tail_lines(result['body_excerpt'], 1000))
        if result.get('wsgi_errors'):
            msg += '\nLast lines written to wsgi.errors:\n' + indent(result['wsgi_errors'])
        extra = dict(info, body_excerpt=result.get('body_excerpt', ''), wsgi_errors=result.get('wsgi_errors') or [])
        extra.update(response)
        raise CheckFailed('status', msg, **extra)

    response.update(
        changed=False,
        elapsed={'import': elapsed.get('import'), 'call': elapsed.get('call')},
        entry_file=result.get('entry_file'),
        python_version=result.get('python_version'),
    )
    return response


def main():
    module = AnsibleModule(
        argument_spec=dict(
            venv=dict(type='path'),
            python=dict(type='path'),
            entry_point=dict(type='str', required=True),
            python_path=dict(type='list', elements='path', default=[]),
            chdir=dict(type='path'),
            env=dict(type='dict', default={}),
            secret_env=dict(type='dict', default={}, no_log=True),
            run_as=dict(type='str'),
            path=dict(type='str', default='/'),
            host=dict(type='str', default='localhost'),
            script_name=dict(type='str', default=''),
            method=dict(type='str', default='GET', choices=['GET', 'HEAD']),
            timeout=dict(type='int', default=30),
            expected_status=dict(type='list', elements='int', default=[]),
            request=dict(type='bool', default=True),
            load=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('venv', 'python')],
        required_one_of=[('venv', 'python')],
        supports_check_mode=True,
    )
    invocation = relax_masking(module)
    try:
        result = run_check(module)
    except (CheckFailed, RunAsError) as exc:
        module.fail_json(msg=exc.msg, stage=exc.stage, invocation=invocation, **exc.extra)
    module.exit_json(invocation=invocation, **result)


if __name__ == '__main__':
    main()
