#!/usr/bin/env bash
# Stage and build one doorbell package (make firmware):
#   scripts/build-firmware-package.sh ARCH VERSION BINARY OUTPUT.deb
# ARCH is a Debian architecture (amd64, arm64, armhf), BINARY the doorbelld
# built for it. The package holds /usr/bin/doorbelld, its systemd unit, its
# default settings (a conffile) and maintainer scripts from packaging/doorbell/.
# Depends comes from dpkg-shlibdeps against the architecture's installed
# libraries (the :ARCH packages scripts/deps.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 4 ]; then
    echo "usage: $0 ARCH VERSION BINARY OUTPUT.deb" >&2
    exit 2
fi
architecture=$1 version=$2 binary=$3 output=$4
case "$architecture" in
amd64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
*)
    echo "build-firmware-package: unknown architecture $architecture" >&2
    exit 2
    ;;
esac

# Staged where dpkg-shlibdeps expects a package's files: debian/PACKAGE.
work=$(dirname "$binary")/package
stage=$work/debian/doorstep-doorbell
rm -rf "$work"
mkdir -p "$stage/DEBIAN"

# The files. The binary loses its debug information (a Pi Zero 2 W has
# little room); build/firmware/ARCH/doorbelld keeps it for gdb.
install -D -m 0755 "$binary" "$stage/usr/bin/doorbelld"
"$triplet-strip" --strip-unneeded "$stage/usr/bin/doorbelld"
install -D -m 0644 packaging/doorbell/doorbelld.service "$stage/lib/systemd/system/doorbelld.service"
install -D -m 0644 packaging/doorbell/doorbelld.conf "$stage/etc/doorbelld/doorbelld.conf"
install -D -m 0644 README.md "$stage/usr/share/doc/doorstep-doorbell/README.md"
for script in postinst prerm postrm; do
    install -m 0755 "packaging/doorbell/$script" "$stage/DEBIAN/$script"
done
echo /etc/doorbelld/doorbelld.conf >"$stage/DEBIAN/conffiles"

# The shared libraries the binary needs, as package relations. dpkg-shlibdeps
# wants a debian/control beside it: a minimal one in the work directory.
printf 'Source: doorstep\n\nPackage: doorstep-doorbell\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && DEB_HOST_ARCH=$architecture dpkg-shlibdeps -O -edebian/doorstep-doorbell/usr/bin/doorbelld)
depends=${shlibs#shlibs:Depends=}
if [ -z "$depends" ] || [ "$depends" = "$shlibs" ]; then
    echo "build-firmware-package: dpkg-shlibdeps found no dependencies for $binary" >&2
    exit 1
fi

(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
    xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
installed_size=$(du -k -s --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: doorstep-doorbell
Version: $version
Architecture: $architecture
Maintainer: Doorstep developers <doorstep@localhost>
Section: net
Priority: optional
Installed-Size: $installed_size
Depends: $depends, adduser
Recommends: avahi-daemon
Description: Doorstep doorbell firmware (doorbelld)
 The doorbell of the Doorstep self-hosted smart-doorbell system: camera
 (V4L2) to H.264 to the hub over an authenticated TLS device link, JPEG
 snapshots, two-way Opus audio over ALSA, the button, PIR and motion
 detection. Installed on an unpaired board it starts in pairing mode; its
 setup code is in /var/lib/doorbelld/setup-code and in its log
 (journalctl -u doorbelld).
CONTROL

mkdir -p "$(dirname "$output")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$output" >/dev/null
