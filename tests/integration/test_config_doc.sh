#!/usr/bin/env bash
# Every setting fundflowd's config.c reads (each strcmp(key, "...") in config_setting_apply, and
# each --flag's key) is documented in docs/CONFIG.md's table and listed in the default
# configuration file tools/package/fundflowd.conf, and the default file names no setting
# config.c does not know. So the one place that documents the settings cannot fall behind.
#
# Usage: test_config_doc.sh SOURCE_DIR
set -euo pipefail
source_dir=$1
config_c=$source_dir/daemon/net/config.c
doc=$source_dir/docs/CONFIG.md
default_file=$source_dir/tools/package/fundflowd.conf
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

settings=$(grep -o 'strcmp(key, "[a-z_]*")' "$config_c" | sed 's/.*"\(.*\)")/\1/' | sort -u)
[[ $(wc -l <<<"$settings") -ge 19 ]] || fail "found only these settings in config.c: $settings"
for setting in $settings; do
    grep -q "^| \`$setting\` |" "$doc" || fail "docs/CONFIG.md has no row for $setting"
    grep -Eq "^#? ?$setting = " "$default_file" \
        || fail "tools/package/fundflowd.conf does not list $setting"
done
grep -q '^| `plugin.NAME.KEY` |' "$doc" || fail "docs/CONFIG.md has no row for plugin.NAME.KEY"
# The other way: every key the default file names (set or commented) is one config.c reads.
for key in $(sed -n 's/^#\{0,1\} \{0,1\}\([a-z_.]*\) = .*/\1/p' "$default_file" | sort -u); do
    [[ $key == plugin.* ]] && continue
    grep -qx "$key" <<<"$settings" || fail "tools/package/fundflowd.conf names $key, unknown to config.c"
done
# Every flag's key is a setting, and the doc names the flag.
while read -r flag key; do
    grep -qx "$key" <<<"$settings" || fail "$flag sets $key, which config_setting_apply lacks"
    grep -q "\`$flag " "$doc" || fail "docs/CONFIG.md does not name $flag"
done < <(grep -o '{"--[a-z-]*", "[a-z_]*"}' "$config_c" | sed 's/{"\(--[a-z-]*\)", "\([a-z_]*\)"}/\1 \2/')
echo "test_config_doc: $(wc -l <<<"$settings") settings documented and listed"
