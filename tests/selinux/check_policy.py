# Runs inside modwsgi-test/selinux:13 (tests/selinux/Dockerfile), with SELinux
# off: reads a JSON request on stdin and prints what Debian's reference policy
# says about it as JSON.
#
#   rules:       local file-context rules in the order semanage holds them
#                ({target, setype, ftype}), appended to the policy's file_contexts
#   lookups:     [{path, kind}] resolved through libselinux (kind: file, dir, sock)
#   allow:       [{source, target, class}]: the permissions the policy grants,
#                conditional rules counted when their booleans hold
#   transitions: [{source, target, class}]: the type a new object gets
#   booleans:    values overriding the policy's defaults
#   types:       names to resolve (aliases to their primary name)
import json
import os
import shutil
import stat
import sys
import tempfile

import selinux
import setools

FTYPES = {'a': '', 'f': '--', 'd': '-d', 's': '-s', 'l': '-l', 'p': '-p', 'c': '-c', 'b': '-b'}
MODES = {'file': stat.S_IFREG, 'dir': stat.S_IFDIR, 'sock': stat.S_IFSOCK}
POLICY_ROOT = '/etc/selinux/default'


def lookups(rules, requests):
    contexts = os.path.join(POLICY_ROOT, 'contexts', 'files')
    work = tempfile.mkdtemp()
    try:
        shutil.copy(os.path.join(contexts, 'file_contexts'), work)
        if os.path.exists(os.path.join(contexts, 'file_contexts.subs_dist')):
            shutil.copy(os.path.join(contexts, 'file_contexts.subs_dist'), work)
        with open(os.path.join(work, 'file_contexts.local'), 'w') as local:
            for rule in rules:
                local.write('%s\t%s\tsystem_u:object_r:%s:s0\n' % (rule['target'], FTYPES[rule['ftype']], rule['setype']))
        option = selinux.selinux_opt()
        option.type = selinux.SELABEL_OPT_PATH
        option.value = os.path.join(work, 'file_contexts')
        handle = selinux.selabel_open(selinux.SELABEL_CTX_FILE, option, 1)
        found = []
        for request in requests:
            try:
                context = selinux.selabel_lookup(handle, request['path'], MODES[request['kind']])[1]
                found.append(context.split(':')[2])
            except OSError:
                found.append(None)
        selinux.selabel_close(handle)
        return found
    finally:
        shutil.rmtree(work)


def granted(policy, booleans, request):
    perms = set()
    query = setools.TERuleQuery(policy, ruletype=['allow'], source=request['source'], target=request['target'],
                                tclass=[request['class']])
    for rule in query.results():
        try:
            expression = rule.conditional
        except setools.exception.RuleNotConditional:
            perms.update(rule.perms)
            continue
        if expression.evaluate(**booleans) == rule.conditional_block:
            perms.update(rule.perms)
    return sorted(perms)


def transitions(policy, request):
    query = setools.TERuleQuery(policy, ruletype=['type_transition'], source=request['source'],
                                target=request['target'], tclass=[request['class']])
    return sorted(set(str(rule.default) for rule in query.results()))


def main():
    request = json.load(sys.stdin)
    policy_dir = os.path.join(POLICY_ROOT, 'policy')
    policy = setools.SELinuxPolicy(os.path.join(policy_dir, sorted(os.listdir(policy_dir))[-1]))
    booleans = dict((boolean.name, boolean.state) for boolean in policy.bools())
    defaults = dict(booleans)
    booleans.update(request.get('booleans', {}))
    json.dump({
        'lookups': lookups(request.get('rules', []), request.get('lookups', [])),
        'allow': [granted(policy, booleans, item) for item in request.get('allow', [])],
        'transitions': [transitions(policy, item) for item in request.get('transitions', [])],
        'types': dict((name, str(policy.lookup_type(name))) for name in request.get('types', [])),
        'default_booleans': defaults,
    }, sys.stdout)


if __name__ == '__main__':
    main()
