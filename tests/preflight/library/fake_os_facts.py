# Test-only module: report the OS facts it is given, so the preflight suite can
# present the role with an operating system this machine is not.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={
            "os_family": {"type": "str", "required": True},
            "distribution": {"type": "str", "required": True},
            "major_version": {"type": "str", "default": "1"},
        },
        supports_check_mode=True,
    )
    module.exit_json(
        changed=False,
        ansible_facts={
            "os_family": module.params["os_family"],
            "distribution": module.params["distribution"],
            "distribution_major_version": module.params["major_version"],
            "distribution_version": module.params["major_version"],
        },
    )


if __name__ == "__main__":
    main()
