#!/usr/bin/env bash
# test-firmware.sh - checks the doorbell packages `make firmware` built
# (`make test-firmware`). For each doorstep-doorbell_VERSION_ARCH.deb given:
#   1. control data: name, version and architecture as in the file name,
#      Depends on the libraries doorbelld links (from dpkg-shlibdeps), the
#      conffile and the maintainer scripts;
#   2. files: exactly the expected ones, with their modes and root owner, and
#      usr/bin/doorbelld an ELF for ARCH (`file`);
#   3. `doorbelld --self-test` (camera back-ends, x264, Opus, JPEG, link
#      vectors): natively, or under qemu-aarch64-static / qemu-arm-static;
#   4. an install into a throwaway root (tests/firmware/throwaway-install.sh):
#      the real dpkg installs, upgrades, removes and purges the package in a
#      private mount namespace with no network, so its maintainer scripts run
#      for real; systemd-analyze verify checks the installed unit, and the
#      installed doorbelld runs as the unit runs it (its user, options and
#      directories; the simulated camera), answers on its control socket and
#      stops on SIGTERM.
# Nothing is skipped: a missing tool is a failure. Needs root (dpkg, mount
# namespaces). Prints one line per check; exits 1 if any failed.
#   tests/firmware/test-firmware.sh build/firmware/doorstep-doorbell_*.deb
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

failed=0
passed=0
# pass|fail NAME [DETAIL]: count and print one check's result.
pass() {
    passed=$((passed + 1))
    echo "ok      $1"
}
fail() {
    failed=$((failed + 1))
    echo "FAILED  $1${2:+: $2}"
}

if [ $# -eq 0 ]; then
    echo "usage: $0 PACKAGE.deb..." >&2
    exit 2
fi
for tool in dpkg dpkg-deb file unshare mount systemd-analyze setpriv timeout \
    qemu-aarch64-static qemu-arm-static; do
    command -v "$tool" >/dev/null || fail "tool $tool" "missing (DOORSTEP_FIRMWARE_DEPS=1 scripts/deps.sh)"
done
[ "$(id -u)" -eq 0 ] || fail "root" "the install check needs root (dpkg, mount namespaces)"

native=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The files every package holds: mode, owner and path as dpkg-deb lists them.
expected_files="-rw-r--r-- root/root ./etc/doorbelld/doorbelld.conf
-rw-r--r-- root/root ./lib/systemd/system/doorbelld.service
-rwxr-xr-x root/root ./usr/bin/doorbelld
-rw-r--r-- root/root ./usr/share/doc/doorstep-doorbell/README.md"

# What `file` says of a doorbelld built for each architecture (armhf: the
# hard-float loader, not armel's).
declare -A elf_pattern=(
    [amd64]='ELF 64-bit LSB pie executable, x86-64.*interpreter /lib64/ld-linux-x86-64.so.2'
    [arm64]='ELF 64-bit LSB pie executable, ARM aarch64.*interpreter /lib/ld-linux-aarch64.so.1'
    [armhf]='ELF 32-bit LSB pie executable, ARM, EABI5.*interpreter /lib/ld-linux-armhf.so.3'
)
# How to run a binary of each architecture here: natively or under qemu. The
# loader and libraries are the multiarch ones (libc6:arm64, libc6:armhf and
# the libraries scripts/deps.sh installs), at their usual paths, as on a
# board. Not `qemu -L /usr/TRIPLET`: that is the cross compiler's own libc
# (libc6-arm64-cross, another build than libc6:arm64), and its loader with
# the multiarch libc.so crashes (armhf) or hangs (arm64) in pthread_create.
declare -A runner=(
    [amd64]='qemu-x86_64-static'
    [arm64]='qemu-aarch64-static'
    [armhf]='qemu-arm-static'
)
runner[$native]=''

for package in "$@"; do
    name=$(basename "$package")
    if [[ ! "$name" =~ ^doorstep-doorbell_([^_]+)_([a-z0-9]+)\.deb$ ]]; then
        fail "$name" "not named doorstep-doorbell_VERSION_ARCH.deb"
        continue
    fi
    version=${BASH_REMATCH[1]} architecture=${BASH_REMATCH[2]}
    if [ ! -f "$package" ]; then
        fail "$name" "missing"
        continue
    fi
    echo "== $name"

    # 1. Control data.
    field() { dpkg-deb --field "$package" "$1"; }
    if [ "$(field Package)" = doorstep-doorbell ] && [ "$(field Version)" = "$version" ] &&
        [ "$(field Architecture)" = "$architecture" ]; then
        pass "$architecture: Package, Version, Architecture"
    else
        fail "$architecture: Package, Version, Architecture" \
            "$(field Package) $(field Version) $(field Architecture)"
    fi
    depends=$(field Depends)
    missing_depends=""
    for library in libc6 libwebsockets17 libx264- libjpeg62-turbo libasound2 libopus0 \
        libspeexdsp1 libcjson1 libmbedcrypto adduser; do
        [[ "$depends" == *"$library"* ]] || missing_depends+=" $library"
    done
    if [ -z "$missing_depends" ]; then
        pass "$architecture: Depends names the linked libraries"
    else
        fail "$architecture: Depends names the linked libraries" "no$missing_depends in: $depends"
    fi
    control=$work/$architecture-control
    dpkg-deb --control "$package" "$control"
    if [ "$(cat "$control/conffiles" 2>/dev/null)" = /etc/doorbelld/doorbelld.conf ]; then
        pass "$architecture: conffiles"
    else
        fail "$architecture: conffiles" "$(cat "$control/conffiles" 2>&1)"
    fi
    scripts_ok=1
    for script in postinst prerm postrm; do
        [ -x "$control/$script" ] && sh -n "$control/$script" || scripts_ok=0
    done
    if [ "$scripts_ok" = 1 ]; then
        pass "$architecture: postinst, prerm, postrm executable and valid sh"
    else
        fail "$architecture: postinst, prerm, postrm executable and valid sh"
    fi

    # 2. Files, modes, owners, the binary's architecture.
    files=$(dpkg-deb --contents "$package" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | LC_ALL=C sort)
    if [ "$files" = "$(LC_ALL=C sort <<<"$expected_files")" ]; then
        pass "$architecture: files, modes and owners"
    else
        fail "$architecture: files, modes and owners" \
            "$(diff <(echo "$expected_files") <(echo "$files") | grep '^[<>]' | tr '\n' ' ')"
    fi
    root=$work/$architecture-root
    dpkg-deb -x "$package" "$root"
    description=$(file -b "$root/usr/bin/doorbelld")
    if [[ "$description" =~ ${elf_pattern[$architecture]:-no pattern} ]]; then
        pass "$architecture: usr/bin/doorbelld is an $architecture ELF"
    else
        fail "$architecture: usr/bin/doorbelld is an $architecture ELF" "file says: $description"
    fi

    # 3. The self-test, on this machine's CPU or an emulated one.
    read -r -a run <<<"${runner[$architecture]-missing-runner-for-$architecture}"
    output=$work/$architecture-self-test.txt
    if timeout 600 "${run[@]}" "$root/usr/bin/doorbelld" --self-test >"$output" 2>&1 &&
        grep -q '^self-test: passed' "$output"; then
        pass "$architecture: doorbelld --self-test${run[0]:+ under ${run[0]}}"
    else
        fail "$architecture: doorbelld --self-test${run[0]:+ under ${run[0]}}" \
            "$(grep '^self-test' "$output" | grep -v ': ok' | tr '\n' ' ')$(tail -n 3 "$output" | tr '\n' ' ')"
    fi

    # 4. Install, upgrade, remove and purge in a throwaway root.
    output=$work/$architecture-install.txt
    if unshare --mount --net --fork "$here/throwaway-install.sh" "$package" "$work/$architecture-overlay" \
        "${runner[$architecture]-missing-runner-for-$architecture}" >"$output" 2>&1; then
        sed 's/^/        /' "$output"
        pass "$architecture: install, upgrade, remove, purge in a throwaway root"
    else
        sed 's/^/        /' "$output"
        fail "$architecture: install, upgrade, remove, purge in a throwaway root"
    fi
done

echo "test-firmware: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
