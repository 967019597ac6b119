# Sourced by .ci/cross and .ci/wine: what they need from Debian's archive,
# installed when missing, or the stage skipped with a clear message on a
# developer's machine where that is not possible. With CI=true a missing
# package is a failure, never a skip.
#
# The sourcing script sets `stage` (its name, for messages) first.

skip() {
    if [ "${CI:-}" = true ]; then
        echo "$stage: FAILED: $* (CI=true, so this is not skipped)" >&2
        exit 1
    fi
    echo "$stage: skipped: $*"
    exit 0
}

installed() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qx 'install ok installed' || return 1
    done
}

# need_packages PACKAGE...: installs the missing ones with apt-get (first
# without, then with `apt-get update`), as root or with sudo; skips (see
# above) when that cannot be done. apt-get waits for a lock another apt holds.
need_packages() {
    printf '\n==> %s\n' "Debian packages: $*"
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        skip "apt-get/dpkg not available; this stage needs Debian's $*"
    fi
    installed "$@" && return 0
    local sudo="" log
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            skip "not root and no sudo: cannot install $*"
        fi
        sudo=sudo
    fi
    log=$(mktemp)
    local apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q)
    if ! "${apt[@]}" install "$@" >"$log" 2>&1; then
        if ! { "${apt[@]}" update >>"$log" 2>&1 && "${apt[@]}" install "$@" >>"$log" 2>&1; }; then
            tail -n 20 "$log" >&2
            rm -f "$log"
            skip "apt-get could not install $*"
        fi
    fi
    rm -f "$log"
    installed "$@" || skip "apt-get ran, but $* are still not all installed"
}

# upgrade_packages REASON PACKAGE...: like need_packages, for packages that
# are installed but too old (an image made before the security suite had the
# version this stage needs): `apt-get update`, then install them again, which
# takes the newest candidate.
upgrade_packages() {
    local reason=$1
    shift
    printf '\n==> %s\n' "Debian packages, upgraded: $* ($reason)"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || skip "not root and no sudo: cannot upgrade $* ($reason)"
        sudo=sudo
    fi
    local log apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q)
    log=$(mktemp)
    if ! { "${apt[@]}" update >"$log" 2>&1 && "${apt[@]}" install "$@" >>"$log" 2>&1; }; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        skip "apt-get could not upgrade $* ($reason)"
    fi
    rm -f "$log"
}

# need_rust_at_least RUSTC MINOR PACKAGE...: RUSTC (Debian's rustc-web) must
# be 1.MINOR or newer, the oldest the locked dependencies build with
# (encoding_rs 0.8.44 needs 1.88). Debian 12's main suite has 1.85, its
# security suite newer: an older one is upgraded, with PACKAGE... beside it.
need_rust_at_least() {
    local rustc=$1 min=$2
    shift 2
    minor() { "$rustc" --version | sed -n 's/^rustc 1\.\([0-9]*\)\..*/\1/p'; }
    local have
    have=$(minor)
    if [ -z "$have" ] || [ "$have" -lt "$min" ]; then
        upgrade_packages "$("$rustc" --version | cut -d' ' -f2) is older than 1.$min" "$@"
        have=$(minor)
        [ -n "$have" ] && [ "$have" -ge "$min" ] ||
            skip "Debian's rustc-web is $("$rustc" --version | cut -d' ' -f2) even after apt-get update; the locked dependencies need 1.$min"
    fi
}

# from_package PACKAGE PATH: PATH if PACKAGE installed it (so that a tool is
# called by the full path its package gives it, never whatever is first on
# PATH), else nothing and a non-zero status.
from_package() { dpkg -L "$1" 2>/dev/null | grep -m1 -x "$2"; }
