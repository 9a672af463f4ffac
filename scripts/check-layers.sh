#!/usr/bin/env bash
# check-layers.sh - the include matrix: which folder of ours may include
# which, checked on every quoted #include of appliance/, firmware/ and
# common/ (docs/architecture.md, "Layers"). Prints each violation as
# file:line: reason and exits 1 if there is any, 0 otherwise.
#
#   common/              common/ only
#   firmware/*           firmware/ and common/
#   appliance/storage    storage, common
#   appliance/<domain>   storage, common, itself and the domains before it in
#                        hub_domains (so the domains have no cycle either)
#   appliance/http       storage, domains, http, common (routes and WebSocket endpoints)
#   appliance/main.c, appliance/cli/*         anything of the hub, common
#
# Includes are resolved as the compiler does: "common/x.h" is common/,
# "folder/x.h" is that folder of the file's own program, a name without a
# folder is the file's own folder when it is there, else a library header
# (civetweb.h) and not checked. A folder missing from the matrix is itself a
# violation, so a new folder gets its place in the layers when it is made.
#
# Usage: scripts/check-layers.sh [ROOT]   (ROOT: the tree to check; default
# the repository this script is in; tests point it at a copy).
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# The domain folders, lowest first: each may include those before it.
hub_domains="tls core discovery media detection accounts chime recording live events notify devices talk replies"

domains=""
for domain in $hub_domains; do
    domains+=" appliance/$domain"
done

# Sets below to the domain folders before $1 in hub_domains, as " appliance/x...".
layers_domains_below() {
    local domain
    below=""
    for domain in $hub_domains; do
        [ "$domain" = "$1" ] && return
        below+=" appliance/$domain"
    done
}

# Sets allowed to the folders of its program a file may include (space-
# separated, each "program/folder" or "common"; empty when the file has no
# place in the matrix) and home to the file's own layer, for messages.
layers_classify() {
    local file=$1 folder
    allowed=""
    rule=""
    home=${file%/*}
    case "$file" in
    common/*)
        home=common
        allowed="common"
        rule="common/ includes only common/"
        ;;
    firmware/*)
        home=firmware
        allowed="firmware/* common"
        rule="the doorbell includes only firmware/ and common/"
        ;;
    appliance/main.c | appliance/cli/*)
        allowed="appliance/* common"
        rule="a hub entry point includes the hub and common/"
        ;;
    appliance/*/*)
        folder=${file#appliance/}
        folder=${folder%%/*}
        home=appliance/$folder
        case " $hub_domains " in
        *" $folder "*)
            layers_domains_below "$folder"
            allowed="appliance/storage$below appliance/$folder common"
            rule="a domain includes only storage, common/ and the domains before it in: $hub_domains"
            return
            ;;
        esac
        case "$folder" in
        storage)
            allowed="appliance/storage common"
            rule="storage includes only storage and common/"
            ;;
        http)
            allowed="appliance/storage$domains appliance/http common"
            rule="the adapters include storage, the domains, http and common/"
            ;;
        esac
        ;;
    esac
}

violations=0
report() {
    echo "$1"
    violations=$((violations + 1))
}

mapfile -t files < <(find appliance firmware common -type f \( -name '*.c' -o -name '*.h' \) |
    LC_ALL=C sort)

# Every file has a place in the matrix.
for file in "${files[@]}"; do
    layers_classify "$file"
    [ -n "$allowed" ] ||
        report "$file:1: folder $home has no place in the layer matrix (scripts/check-layers.sh)"
done

# Every quoted include of a placed file, as file:line:text (one grep for all).
current=""
while IFS= read -r match; do
    file=${match%%:*}
    match=${match#*:}
    line=${match%%:*}
    include=${match#*:}
    if [ "$file" != "$current" ]; then
        current=$file
        program=${file%%/*}
        layers_classify "$file"
    fi
    [ -n "$allowed" ] || continue
    include=${include#*\"}
    include=${include%%\"*}
    case "$include" in
    ../* | */../* | ./*)
        report "$file:$line: \"$include\": include by folder, not by relative path"
        continue
        ;;
    common/*)
        target="common"
        ;;
    */*)
        if [ "$program" = common ]; then
            target="${include%%/*}"
        else
            target="$program/${include%%/*}"
        fi
        ;;
    *)
        # A header of the file's own folder, or a library's.
        [ -e "${file%/*}/$include" ] || continue
        target=$home
        ;;
    esac
    if [ "$target" != common ] && [ "$program" != common ] && [ ! -e "$program/$include" ]; then
        report "$file:$line: \"$include\" is not a header of $program/ (each program includes only its own tree and common/)"
        continue
    fi
    ok=0
    for entry in $allowed; do
        case "$target" in
        $entry) ok=1 ;;
        esac
    done
    [ "$ok" = 1 ] || report "$file:$line: $home may not include $target (\"$include\"): $rule"
done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "${files[@]}" || true)

if [ "$violations" -gt 0 ]; then
    echo "check-layers: $violations include(s) against the layers (docs/architecture.md, \"Layers\")" >&2
    exit 1
fi
echo "check-layers: ok"
