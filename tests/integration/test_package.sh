#!/usr/bin/env bash
# The Debian package: builds it with "cpack -G DEB" from the build directory, inspects it with
# dpkg-deb (its files, the conffile, and Depends naming the Debian packages of the libraries it
# links), checks its systemd unit with systemd-analyze verify and its hardening, unpacks it into
# a throwaway root (dpkg -x), builds the out-of-tree example plugin there with only
# "pkg-config --cflags fundflow-plugin", and starts fundflowd from the unpacked paths against a
# scratch data directory: it answers ServerInfo, has found its plugins and its web view by
# itself, and loads the example plugin.
#
# Usage: test_package.sh BUILD_DIR EXAMPLE_PLUGIN_SOURCE
# Exits 77 (CTest: skipped), saying which, only when a tool it needs is not installed.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BUILD_DIR EXAMPLE_PLUGIN_SOURCE" >&2
    exit 2
fi
build_dir=$1
example=$2
for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze pkg-config cc curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIPPED: $tool is not installed (tools/setup.sh installs it: dpkg-dev, systemd)"
        exit 77
    fi
done

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin package

check "cpack -G DEB builds the package"
(cd "$build_dir" && cpack -G DEB -B "$scratch/package" >"$scratch/cpack.log" 2>&1) \
    || fail "cpack failed: $(tail -n 20 "$scratch/cpack.log")"
debs=("$scratch"/package/fundflow_*_*.deb)
[[ -f ${debs[0]} ]] || fail "no .deb in $scratch/package: $(ls "$scratch/package")"
deb=${debs[0]}

check "dpkg-deb lists the programs, plugins, headers, pkg-config file, man pages, unit and config"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/fundflowd ./usr/bin/fundflow ./usr/bin/fundflow-admin \
    ./usr/lib/fundflow/plugins/mhis.so ./usr/lib/fundflow/plugins/delegation.so \
    ./usr/include/fundflow/plugin.h ./usr/include/fundflow/plugin_util.h \
    ./usr/share/pkgconfig/fundflow-plugin.pc ./usr/share/man/man1/fundflowd.1 \
    ./usr/share/man/man1/fundflow.1 ./usr/share/man/man1/fundflow-admin.1 \
    ./usr/lib/systemd/system/fundflowd.service ./usr/lib/sysusers.d/fundflow.conf \
    ./etc/fundflow/fundflowd.conf ./usr/share/doc/fundflow/CONFIG.md; do
    grep -qxF "$path" <<<"$contents" || fail "the package lacks $path"
done
[[ $(dpkg-deb -f "$deb" Package) == fundflow ]] || fail "the package is not named fundflow"
control=$(mktemp -d "$scratch/control-XXXXXX")
dpkg-deb -e "$deb" "$control"
grep -qxF /etc/fundflow/fundflowd.conf "$control/conffiles" || fail "the config is not a conffile"
[[ -x $control/postinst ]] || fail "no postinst to make the fundflow user"

check "Depends names the Debian library packages fundflow links"
depends=$(dpkg-deb -f "$deb" Depends)
echo "  Depends: $depends"
for package in libc6 liblmdb0 libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 \
    libssl3 libprotobuf-c1 libjansson4; do
    [[ $depends == *"$package "* || $depends == *"$package," || $depends == *"$package" ]] \
        || fail "Depends lacks $package: $depends"
done

check "the unit passes systemd-analyze verify and is hardened"
root="$scratch/root"
dpkg -x "$deb" "$root"
unit="$root/usr/lib/systemd/system/fundflowd.service"
for directive in "User=fundflow" "StateDirectory=fundflow fundflow-backup" \
    "ProtectSystem=strict" "NoNewPrivileges=yes" \
    "ReadWritePaths=/var/lib/fundflow /var/lib/fundflow-backup" \
    "ExecStart=/usr/bin/fundflowd --config /etc/fundflow/fundflowd.conf"; do
    grep -qxF "$directive" "$unit" || fail "the unit lacks $directive"
done
# ReadWritePaths is the only write access besides StateDirectory's: no other line grants any.
[[ $(grep -c '^ReadWritePaths=' "$unit") -eq 1 ]] || fail "more than one ReadWritePaths line"
# verify checks that ExecStart's program exists: point it at the unpacked one, and man at the
# unpacked man pages for Documentation=man:fundflowd(1).
mkdir "$scratch/unit"
sed "s|^ExecStart=/usr/bin/fundflowd|ExecStart=$root/usr/bin/fundflowd|" "$unit" \
    >"$scratch/unit/fundflowd.service"
man_check=(--man=yes)
command -v man >/dev/null || man_check=(--man=no)
MANPATH="$root/usr/share/man" systemd-analyze verify "${man_check[@]}" \
    "$scratch/unit/fundflowd.service" >"$scratch/verify.log" 2>&1 \
    || fail "systemd-analyze verify failed: $(cat "$scratch/verify.log")"

check "the example plugin builds against the unpacked tree with pkg-config alone"
cflags=$(PKG_CONFIG_PATH="$root/usr/share/pkgconfig" pkg-config --cflags fundflow-plugin) \
    || fail "pkg-config does not know fundflow-plugin"
[[ $cflags == *"$root/usr/share/pkgconfig/../../include"* ]] || fail "unexpected cflags: $cflags"
mkdir "$scratch/plugins"
# shellcheck disable=SC2086 # cflags is a list of flags
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden $cflags \
    -o "$scratch/plugins/contract_count.so" "$example" \
    || fail "the example did not build with pkg-config's flags"

check "the unpacked fundflowd finds its plugins and web view and answers ServerInfo"
server_launch "$root/usr/bin/fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
twirp() {
    curl -sS --max-time 60 -X POST -H 'Content-Type: application/json' -d "$2" \
        "http://$server_address/twirp/fundflow.v1.Ledger/$1"
}
info=$(twirp ServerInfo '{}') || fail "ServerInfo failed"
[[ $info == *'"version":"'* ]] || fail "ServerInfo answered $info"
plugins=$(twirp ListPlugins '{}') || fail "ListPlugins failed"
for name in aob bcf delegation mhis outcomes running_costs system_balance; do
    [[ $plugins == *"\"name\":\"$name\""* ]] \
        || fail "the installed fundflowd did not load $name from $root/usr/lib/fundflow/plugins: $plugins"
done
if [[ -d $build_dir/ui ]]; then
    grep -qF "web view: http://$server_address/ui/" "$server_out" \
        || fail "fundflowd did not find its web view: $(cat "$server_out")"
    status=$(curl -sS -o "$scratch/ui.html" -w '%{http_code}' "http://$server_address/ui/")
    [[ $status == 200 ]] && grep -qi "<html" "$scratch/ui.html" \
        || fail "GET /ui/ answered $status"
else
    echo "  the build has no web view (tools/web/node_modules missing: tools/setup.sh), so the"
    echo "  package has none: its check is left out"
fi
server_stop

check "the unpacked fundflowd loads the example plugin built against it"
server_launch "$root/usr/bin/fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" \
    --plugin-dir "$root/usr/lib/fundflow/plugins" --plugin-dir "$scratch/plugins"
plugins=$(twirp ListPlugins '{}') || fail "ListPlugins failed"
[[ $plugins == *'"name":"contract_count"'* && $plugins == *'"name":"mhis"'* ]] \
    || fail "ListPlugins lacks contract_count or mhis: $plugins"
server_stop

echo "test_package: $checks checks passed"
