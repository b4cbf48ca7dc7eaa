#!/usr/bin/env bash
# The layering test: fails, naming file and line, wherever a source file reaches past its layer.
#
# Rules, over the .c and .h files of the source tree given as $1 (default: this checkout):
#   1. LMDB stays behind the store: lmdb.h, mdb_ or MDB_ appear nowhere under daemon/, tools/,
#      plugins/, tests/ or include/ except daemon/store/.
#   2. libevent stays in the network layer: event2/ and libevent's old headers (event.h, evhttp.h,
#      evutil.h, evdns.h, evrpc.h) appear nowhere outside daemon/net/ (include/ is checked too: a
#      public header must not drag libevent in).
#   3. daemon/base/ includes only its own headers, system headers, include/fundflow/*.h and the
#      generated fundflow/v1/*.pb-c.h; any other header of the project is another layer's.
#   4. Layers are ordered base < merkle < export < store < ledger < query < plugin < cluster < net, and a file in one includes
#      no header of a higher one. Which layer a header is in is found by looking for its name in
#      the daemon/<layer>/ folders; a name found in the file's own layer or a lower one is that.
#   5. Every source file of daemon/ sits in a layer's folder; none lies loose in daemon/ itself.
#   6. A plugin (plugins/, tests/fixtures/) sees fundflow only through include/: it includes
#      system headers, include/fundflow/*.h and headers of its own folder, and nothing else of
#      the project's.
#   7. daemon/merkle/ (tree hashing, proofs and signed heads, which the CLI links without the daemon)
#      includes only its own headers, system and OpenSSL headers and include/fundflow/*.h:
#      nothing of daemon/ or tools/.
#   8. Raft stays in the cluster layer: raft.h, raft/ and uv.h appear nowhere outside
#      daemon/cluster/, so the ledger and the server never know which engine replicates them.
# Usage: check_layers.sh [SOURCE_DIR]. Prints one "path:line: rule: text" per violation and exits
# 1 if there is any, 0 if none. Matching is textual on purpose: comments count too, so prose about
# mdb_ calls outside the store is caught as well as the calls.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"
layers=(base merkle export store ledger query plugin cluster net)
self=tests/layering/check_layers.sh

declare -A rank=()
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

# Lists the .c and .h files under the given folders that exist, sorted, one per line.
sources() {
    local folder
    for folder in "$@"; do
        [[ -d $folder ]] && find "$folder" -type f \( -name '*.c' -o -name '*.h' \) -print
    done | sort
}

# Where each header name lives: the lowest daemon layer holding it, and whether the project holds
# it at all (a name the project does not hold is a system or generated header).
declare -A header_layer=() project_header=()
while IFS= read -r path; do
    name=${path##*/}
    project_header[$name]=$path
    if [[ $path == daemon/* ]]; then
        layer=${path#daemon/}
        layer=${layer%%/*}
        [[ -n ${rank[$layer]+set} ]] || continue
        if [[ -z ${header_layer[$name]+set} ]] || ((rank[$layer] < rank[${header_layer[$name]}])); then
            header_layer[$name]=$layer
        fi
    fi
done < <(sources daemon tools plugins tests include | grep '\.h$' || true)

violations=0
violation() {
    violations=$((violations + 1))
    printf '%s\n' "$1"
}

# 1. LMDB outside daemon/store/.
while IFS= read -r hit; do
    violation "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): lmdb outside daemon/store/: $(cut -d: -f3- <<<"$hit" | sed 's/^[[:space:]]*//')"
done < <(sources daemon tools plugins tests include | grep -v -e '^daemon/store/' -e "^$self\$" \
    | xargs -r grep -nH -E 'lmdb\.h|mdb_|MDB_' || true)

# 2. libevent outside daemon/net/.
while IFS= read -r hit; do
    violation "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): event2/ outside daemon/net/: $(cut -d: -f3- <<<"$hit" | sed 's/^[[:space:]]*//')"
done < <(sources daemon tools plugins tests include | grep -v -e '^daemon/net/' -e "^$self\$" \
    | xargs -r grep -nH -E 'event2/|[<"](event|evhttp|evutil|evdns|evrpc)\.h[>"]' || true)

# 8. Raft and libuv outside daemon/cluster/.
while IFS= read -r hit; do
    violation "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): Raft or libuv outside daemon/cluster/: $(cut -d: -f3- <<<"$hit" | sed 's/^[[:space:]]*//')"
done < <(sources daemon tools plugins tests include | grep -v -e '^daemon/cluster/' -e "^$self\$" \
    | xargs -r grep -nH -E '[<"](raft\.h|raft/|uv\.h)' || true)

# 3 and 4. What each daemon layer includes.
include_pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"]'
while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    text=${rest#*:}
    [[ $text =~ $include_pattern ]] || continue
    included=${BASH_REMATCH[1]}
    name=${included##*/}
    layer=${file#daemon/}
    layer=${layer%%/*}
    [[ -n ${rank[$layer]+set} ]] || continue
    if [[ $layer == base ]]; then
        if [[ $included == fundflow/v1/*.pb-c.h ]]; then
            continue
        elif [[ $included == fundflow/* && -f include/$included ]]; then
            continue
        elif [[ -n ${project_header[$name]+set} && ${project_header[$name]} != daemon/base/* ]]; then
            violation "$file:$line: daemon/base/ includes another layer's header $included (${project_header[$name]}); base may include only its own, system, include/fundflow/ and fundflow/v1/*.pb-c.h headers"
            continue
        fi
    fi
    held_by=${header_layer[$name]:-}
    if [[ -n $held_by ]] && ((rank[$held_by] > rank[$layer])); then
        violation "$file:$line: daemon/$layer/ includes $included from the higher layer daemon/$held_by/ (order: ${layers[*]})"
    fi
done < <(sources daemon | xargs -r grep -nH -E "$include_pattern" || true)

# 5. Loose files in daemon/.
while IFS= read -r path; do
    layer=${path#daemon/}
    if [[ $layer != */* || -z ${rank[${layer%%/*}]+set} ]]; then
        violation "$path:1: a daemon source outside every layer's folder (${layers[*]})"
    fi
done < <(sources daemon)

# 6 and 7. Folders that see fundflow only through include/ (plugins) or not at all (daemon/merkle/):
# each file includes system (and OpenSSL) headers, include/fundflow/*.h and its own folder's.
# Usage: own_headers_only WHAT FOLDER...; WHAT names the folders in the message.
own_headers_only() {
    local what=$1 hit file rest line text included name
    shift
    while IFS= read -r hit; do
        file=${hit%%:*}
        rest=${hit#*:}
        line=${rest%%:*}
        text=${rest#*:}
        [[ $text =~ $include_pattern ]] || continue
        included=${BASH_REMATCH[1]}
        name=${included##*/}
        [[ -z ${project_header[$name]+set} ]] && continue
        [[ $included == fundflow/* && -f include/$included ]] && continue
        [[ -f ${file%/*}/$included ]] && continue
        violation "$file:$line: $what includes $included (${project_header[$name]}); it sees fundflow only through include/fundflow/"
    done < <(sources "$@" | xargs -r grep -nH -E "$include_pattern" || true)
}
own_headers_only "a plugin" plugins tests/fixtures
own_headers_only "daemon/merkle/" daemon/merkle

if ((violations > 0)); then
    echo "check_layers: $violations violation(s) in $root" >&2
    exit 1
fi
echo "check_layers: no violations in $root"
