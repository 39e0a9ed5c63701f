#!/usr/bin/env bash
# Seal and verify >= 1 GiB of generated evidence, against the tools a
# responder would otherwise use, in one run:
#   hashing  kcustody seal's hashing pass   vs  openssl dgst -sha256 (same files)
#   seal     kcustody seal (hash + sign + deterministic tar.gz)
#                                           vs  tar czf + sha256sum
#   verify   kcustody verify                vs  tar xzOf | sha256sum
# and peak RSS of seal and verify (/usr/bin/time -v).
# usage: bench/bench_bundle.sh [SIZE_MIB]     (default 1024)
# Needs: python3, GNU tar, gzip, coreutils, openssl, /usr/bin/time (package 'time').
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
K=${KCUSTODY_BIN:-$repo/kcustody}
MIB=${1:-1024}
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-bench.XXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

echo "generating $MIB MiB of list pages in $W/st ..."
python3 - "$W/st" "$MIB" <<'PY'
# List pages shaped like what collect stores: JSON objects with repeated
# keys and random names, uids and versions (gzip ratio about 3-4:1).
import os, random, sys, uuid
root, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
per_file = 16 << 20
for i in range((mib << 20) // per_file):
    d = os.path.join(root, "raw", "res%02d" % (i % 11))
    os.makedirs(d, exist_ok=True)
    out, n = [], 0
    out.append('{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"%d"},"items":[' % rnd.getrandbits(31))
    while n < per_file:
        o = ('{"metadata":{"name":"sa-%x","namespace":"ns-%d","uid":"%s","resourceVersion":"%d",'
             '"creationTimestamp":"2026-11-%02dT%02d:%02d:%02dZ","labels":{"app":"agent-%x"}},'
             '"secrets":[{"name":"tok-%x"}],"automountServiceAccountToken":%s},') % (
            rnd.getrandbits(40), rnd.randrange(500), uuid.UUID(int=rnd.getrandbits(128)),
            rnd.getrandbits(31), rnd.randrange(1, 29), rnd.randrange(24), rnd.randrange(60),
            rnd.randrange(60), rnd.getrandbits(24), rnd.getrandbits(32),
            "true" if rnd.random() < .5 else "false")
        out.append(o)
        n += len(o)
    out.append('{}]}\n')
    with open(os.path.join(d, "page-%04d.json" % (i + 1)), "w") as f:
        f.write("".join(out))
PY
bytes=$(du -sb "$W/st" | cut -f1)
files=$(find "$W/st" -type f | wc -l)
echo "members: $files files, $bytes bytes"
"$K" keygen -o "$W/k.pem" >/dev/null 2>&1
sync

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v n="$bytes" -v s="$1" 'BEGIN { printf "%.0f", n / s / 1048576 }'; }
peak() { sed -n 's/^\tMaximum resident set size (kbytes): //p' "$1"; }

# Warm the page cache once so that every contender reads from memory.
cat $(find "$W/st" -type f) >/dev/null

t0=$(now); (cd "$W/st" && find . -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null); t1=$(now)
dgst=$(elapsed "$t0" "$t1")

t0=$(now); (cd "$W" && tar czf base.tar.gz st && (cd st && find . -type f -print0 | xargs -0 sha256sum >/dev/null)); t1=$(now)
tarsum=$(elapsed "$t0" "$t1")

t0=$(now)
KCUSTODY_DEBUG=1 /usr/bin/time -v -o "$W/seal.time" "$K" seal "$W/st" -o "$W/B_pre_bench_20261125T000000Z.tar.gz" \
	--key "$W/k.pem" --mtime 2026-11-25T00:00:00Z >/dev/null 2>"$W/seal.log"
t1=$(now)
seal=$(elapsed "$t0" "$t1")
hash=$(sed -n 's/.*seal: hashed .* in \([0-9.]*\) s.*/\1/p' "$W/seal.log")

t0=$(now); (cd "$W" && tar xzOf base.tar.gz | sha256sum >/dev/null); t1=$(now)
xsum=$(elapsed "$t0" "$t1")

t0=$(now)
/usr/bin/time -v -o "$W/verify.time" "$K" verify "$W/B_pre_bench_20261125T000000Z.tar.gz" \
	--pubkey "$W/k.pub.pem" >"$W/verify.out"
t1=$(now)
verify=$(elapsed "$t0" "$t1")

bsize=$(stat -c %s "$W/B_pre_bench_20261125T000000Z.tar.gz")
tsize=$(stat -c %s "$W/base.tar.gz")
cat <<OUT

kcustody bundle benchmark: $files files, $((bytes >> 20)) MiB, $(nproc) CPUs, one run each
  hashing  kcustody $hash s ($(mbps "$hash") MiB/s)  openssl dgst -sha256 $dgst s ($(mbps "$dgst") MiB/s)  ratio $(ratio "$dgst" "$hash")x
  seal     kcustody $seal s  tar czf + sha256sum $tarsum s  ratio $(ratio "$tarsum" "$seal")x
  verify   kcustody $verify s  tar xzOf | sha256sum $xsum s  ratio $(ratio "$xsum" "$verify")x
  size     bundle $bsize bytes, tar czf $tsize bytes
  peak RSS seal $(peak "$W/seal.time") KiB, verify $(peak "$W/verify.time") KiB
(ratio = baseline time / kcustody time; >= 1 means kcustody is as fast or faster)
OUT
