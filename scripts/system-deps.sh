#!/usr/bin/env bash
# Installs the Debian packages named on the command line (by the command they provide)
# when they are missing: `system-deps.sh redis-server wrk`.
set -euo pipefail
needed=()
for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || needed+=("$command")
done
[ ${#needed[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "missing Debian packages: ${needed[*]} (install them as root)" >&2
        exit 1
    fi
    SUDO=sudo
fi
echo "installing Debian packages: ${needed[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
