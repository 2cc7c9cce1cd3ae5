#!/bin/sh
# The floor for bench/deploy: only the package and pip installs the roles make
# on Debian 13 (server role: apache2, python3-venv, python3-packaging and the
# distribution's mod_wsgi; app role: a virtualenv with the app's requirements),
# as plain commands with nothing else around them. Runs inside a fresh container
# of the test image; the requirements file is its first argument.
set -eu
requirements=${1:?usage: floor.sh REQUIREMENTS_FILE}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq apache2 libapache2-mod-wsgi-py3 python3-venv python3-packaging >/dev/null
python3 -m venv /srv/floor/venv
/srv/floor/venv/bin/pip install -q -r "$requirements"
