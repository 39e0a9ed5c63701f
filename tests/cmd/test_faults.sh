#!/bin/bash
# Fault injection on the real parts (issue 10, item 8), no fakes:
#  (a) the real kube-apiserver SIGKILLed in the middle of a paginated list
#      (300 service accounts, --page-size 20; killed when its audit log
#      shows kcustody's first continue request), then restarted: the result
#      is a partial bundle naming the failed item (exit 1) or nothing
#      (exit 4), never a complete-looking bundle (exit 0);
#  (b) ENOSPC on a small tmpfs while sealing, collecting, appending to a
#      custody ledger and putting into the local archive: a clear error,
#      exit 4, nothing under the final name, no temporary file left, the
#      ledger not torn; each with a positive twin that has room;
#  (c) SIGKILL of collect, seal and archive put at 20 moments each, from a
#      seed printed first (KCUSTODY_FAULT_SEED=N repeats a run): whatever
#      is under a final name verifies, leftovers never look like evidence,
#      and a later run succeeds.
# Uses a PRIVATE cluster ($KCUSTODY_CLUSTER_DIR-faults, purged at the end)
# so that killing its API server never disturbs the shared one.  (b) needs
# root (mount); without it that part is skipped and said so.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
T0=$(date +%s%N)

SEED=${KCUSTODY_FAULT_SEED:-$(($(od -An -N2 -tu2 /dev/urandom)))}
echo "fault seed: $SEED (repeat with KCUSTODY_FAULT_SEED=$SEED)"
RANDOM=$SEED

PRIV=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}-faults
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-faults.XXXX")
MNT=$W/mnt
BG=() # pids of background helpers this file started
cleanup() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	bash "$KC_REPO/tests/cluster/stop.sh" --purge "$PRIV" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

for tool in jq kubectl tar; do
	command -v "$tool" >/dev/null || { echo "skip: $tool is needed"; echo "0 passed, 0 failed"; exit 0; }
done

openssl genpkey -algorithm ed25519 -out "$W/k.pem" 2>/dev/null
openssl pkey -in "$W/k.pem" -pubout -out "$W/k.pub"

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# Members of a bundle (names only).
members() { tar -tzf "$1" 2>/dev/null; }
# The manifest of a bundle, on stdout.
manifest_of() { tar -xzOf "$1" --wildcards '*/MANIFEST.json' 2>/dev/null; }
# Files in DIR that are neither the given names nor kcustody's own
# documented temporary names (.kcustody-staging.*, .kcustody-seal.*).
strangers() {
	local d=$1
	shift
	find "$d" -mindepth 1 -maxdepth 1 -printf '%f\n' | while read -r f; do
		case $f in .kcustody-staging.* | .kcustody-seal.*) continue ;; esac
		local x skip=0
		for x in "$@"; do [ "$f" = "$x" ] && skip=1; done
		[ "$skip" = 1 ] || echo "$f"
	done
}

# ---------------------------------------------------------------- cluster
t_begin "faults: private cluster up with 300 service accounts"
if ! bash "$KC_REPO/tests/cluster/start.sh" "$PRIV" >"$W/env.sh" 2>"$T_ERR"; then
	t_fail "cannot start the private cluster in $PRIV"
	tail -n 5 "$T_ERR"
	t_summary
	exit 1
fi
# shellcheck source=/dev/null
. "$W/env.sh"
KCFG=$KC_KUBECONFIG
{
	echo '{"apiVersion":"v1","kind":"List","items":['
	echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"faults"}}'
	for i in $(seq -w 1 300); do
		printf ',{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa-%s","namespace":"faults"}}\n' "$i"
	done
	echo ']}'
} >"$W/estate.json"
kc_admin create -f "$W/estate.json" >/dev/null 2>"$T_ERR" || t_fail "cannot create the estate"
n=$(kc_admin get sa -n faults -o name 2>/dev/null | grep -c '/sa-')
[ "$n" = 300 ] || t_fail "expected 300 service accounts, got $n"
# the controller manager adds each namespace's "default" account and its
# controllers' own: the whole list, as the server holds it now
for ((i = 0; i < 50; i++)); do
	kc_admin -n faults get sa default >/dev/null 2>&1 && break
	sleep 0.2
done
SA_ALL=$(kc_admin get sa -A -o name 2>/dev/null | wc -l)
SA_PAGES=$(((SA_ALL + 19) / 20))
t_pass

# A reference collection: how long it takes (for (c)) and that it works.
t_begin "faults: reference collection (--page-size 20) is complete, exit 0"
mkdir -p "$T_DIR/o"
t=$(date +%s%N)
expect_exit 0 "$KC" collect --kubeconfig "$KCFG" --case F --phase pre --agents '' --no-reviews \
	--page-size 20 --key "$W/k.pem" -o "$T_DIR/o/" -q
COLLECT_MS=$(ms "$t")
b=$(cat "$T_OUT")
manifest_of "$b" | jq -e --argjson n "$SA_ALL" --argjson p "$SA_PAGES" '.status == "complete" and
	(.items[] | select(.name == "list/serviceaccounts") | .status == "complete" and .count == $n and .pages == $p)' \
	>/dev/null || t_fail "reference bundle not complete or not paginated"
cp "$b" "$W/ref.tar.gz" && cp "$b.custody.jsonl" "$W/ref.tar.gz.custody.jsonl"
echo "  collect takes ${COLLECT_MS} ms"
t_pass

# ------------------------------------------------- (a) apiserver killed mid-list
API_PID=$(cat "$PRIV/apiserver.pid")
mapfile -d '' -t API_CMD <"/proc/$API_PID/cmdline"

restart_apiserver() {
	local i
	setsid "${API_CMD[@]}" </dev/null >>"$PRIV/apiserver.log" 2>&1 &
	echo $! >"$PRIV/apiserver.pid"
	for ((i = 0; i < 120; i++)); do
		curl -sf --max-time 2 --cacert "$KC_PKI_DIR/ca.crt" "$KC_SERVER/readyz" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

# Every audit event of this cluster, rotated backups included, one a line.
audit_all() { cat "$KC_AUDIT_DIR"/audit*.log 2>/dev/null; }
kc_api_alive() { # not gone and not a zombie
	local st
	st=$(sed 's/^.*) //' "/proc/$API_PID/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# A TCP relay that holds each chunk the client sends for DELAY seconds
# (TLS passes through untouched): requests arrive at the server far enough
# apart that the kill lands within a page or two of the signal.
cat >"$W/relay.py" <<'PY'
import asyncio, sys
up_port, delay, port_file = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
async def pump(r, w, d):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            if d:
                await asyncio.sleep(d)
            w.write(b)
            await w.drain()
    except Exception:
        pass
    finally:
        try:
            w.close()
        except Exception:
            pass
async def conn(cr, cw):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", up_port)
    except Exception:
        cw.close()
        return
    await asyncio.gather(pump(cr, uw, delay), pump(ur, cw, 0))
async def main():
    srv = await asyncio.start_server(conn, "127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY

t_begin "faults/a: API server SIGKILLed mid-list (serviceaccounts, 15 pages): exit 1 naming the item, or 4 and nothing written"
mkdir -p "$T_DIR/o"
python3 "$W/relay.py" "$KC_APISERVER_PORT" 0.05 "$T_DIR/relay.port" &
relay=$!
BG+=("$relay")
for _ in $(seq 50); do [ -s "$T_DIR/relay.port" ] && break; sleep 0.1; done
sed "s#server: https://127.0.0.1:$KC_APISERVER_PORT#server: https://127.0.0.1:$(cat "$T_DIR/relay.port")#" \
	"$KCFG" >"$KC_KUBECONFIG_DIR/relay.yaml"
mkfifo "$T_DIR/fifo"
# The audit log is written as requests arrive (RequestReceived stage): the
# first continue request for serviceaccounts is the signal.
tail -n0 -F "$KC_AUDIT_DIR/audit.log" >"$T_DIR/fifo" 2>/dev/null &
tailpid=$!
BG+=("$tailpid")
(grep -m1 -qE 'serviceaccounts\?limit=20(&|\\u0026)continue=' <"$T_DIR/fifo" && kill -KILL "$API_PID" &&
	date +%s%N >"$T_DIR/killed") &
watcher=$!
BG+=("$watcher")
sleep 0.3
since=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
rc=0
"$KC" collect --kubeconfig "$KC_KUBECONFIG_DIR/relay.yaml" --case F --phase pre --agents '' --no-reviews \
	--page-size 20 --max-retries 2 --key "$W/k.pem" -o "$T_DIR/o/" >"$T_OUT" 2>"$T_ERR" || rc=$?
kill "$tailpid" "$watcher" "$relay" 2>/dev/null
wait "$tailpid" "$watcher" "$relay" 2>/dev/null
[ -e "$T_DIR/killed" ] || t_fail "the watcher never killed the API server (no continue request seen)"
for _ in $(seq 50); do kc_api_alive || break; sleep 0.1; done
kc_api_alive && t_fail "the API server is still alive"
sa_pages=$(audit_all | jq -r --arg t "$since" 'select(.stage == "ResponseComplete" and
	.requestReceivedTimestamp >= $t and (.userAgent | test("^kcustody/")) and .responseStatus.code == 200
	and (.requestURI | startswith("/api/v1/serviceaccounts?limit=20"))) | .auditID' 2>/dev/null | wc -l)
echo "  collect exit $rc; serviceaccounts pages the server answered before it died: $sa_pages of 15"
case $rc in
0) t_fail "exit 0 after the API server died mid-list: a complete-looking bundle" ;;
1)
	b=$(cat "$T_OUT")
	[ -f "$b" ] || t_fail "exit 1 but no bundle named on stdout"
	manifest_of "$b" >"$T_DIR/m.json"
	jq -e '.status == "partial"' "$T_DIR/m.json" >/dev/null || t_fail "exit 1 but the manifest does not say partial"
	jq -e '[.items[] | select(.name == "list/serviceaccounts" and .status != "complete")] | length == 1' \
		"$T_DIR/m.json" >/dev/null || t_fail "the manifest does not name list/serviceaccounts as failed"
	"$KC" verify "$b" --pubkey "$W/k.pub" >/dev/null 2>&1 || t_fail "the partial bundle does not verify"
	;;
4)
	expect_grep 'list/serviceaccounts' "$T_ERR"
	expect_grep 'cannot reach' "$T_ERR"
	[ -z "$(ls -A "$T_DIR/o")" ] || t_fail "exit 4 but something was left: $(ls -A "$T_DIR/o" | tr '\n' ' ')"
	[ -s "$T_OUT" ] && t_fail "exit 4 but a path was printed: $(cat "$T_OUT")"
	;;
*) t_fail "unexpected exit $rc" ;;
esac
[ "$sa_pages" -ge 15 ] && t_fail "the kill came too late: the whole serviceaccounts list was answered"
[ "$sa_pages" -lt 1 ] && t_fail "the kill came before the first page"
t_pass

t_begin "faults/a: the API server restarted on the same etcd; start.sh sees it healthy; the same collection is complete"
restart_apiserver || t_fail "the API server did not come back"
bash "$KC_REPO/tests/cluster/start.sh" "$PRIV" >/dev/null 2>"$T_DIR/start.err" || t_fail "start.sh does not see a healthy cluster"
grep -q afresh "$T_DIR/start.err" && t_fail "start.sh restarted the cluster from scratch"
mkdir -p "$T_DIR/o"
expect_exit 0 "$KC" collect --kubeconfig "$KCFG" --case F --phase pre --agents '' --no-reviews \
	--page-size 20 --key "$W/k.pem" -o "$T_DIR/o/" -q
b=$(cat "$T_OUT")
manifest_of "$b" | jq -e '.status == "complete" and
	(.items[] | select(.name == "list/serviceaccounts") | .status == "complete" and .count >= 300)' \
	>/dev/null || t_fail "the collection after the restart is not complete"
t_pass

# ------------------------------------------------------------- (b) ENOSPC
# A staging folder of N KiB of random (incompressible) data.
stage_of() { # DIR KIB
	mkdir -p "$1"
	head -c $(($2 * 1024)) /dev/urandom >"$1/evidence.bin"
	echo small >"$1/note.txt"
}
# A sealed bundle of N KiB with a custody ledger started ('sealed').
bundle_of() { # PATH KIB
	local s
	s=$(mktemp -d "$W/stage.XXXX")
	stage_of "$s" "$2"
	"$KC" seal "$s" -o "$1" --key "$W/k.pem" >/dev/null 2>&1 &&
		"$KC" custody append "$1" --action sealed --key "$W/k.pem" --name Tester >/dev/null 2>&1
	local rc=$?
	rm -rf "$s"
	return $rc
}
fill_up() { dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null; sync; }
nospace_ok() { expect_grep 'No space left on device' "$T_ERR"; }

if [ "$(id -u)" != 0 ] || ! mkdir -p "$MNT" || ! mount -t tmpfs -o size=256k,mode=0755 tmpfs "$MNT" 2>/dev/null; then
	echo "skip (b): mounting a tmpfs needs root"
else
	t_begin "faults/b: seal onto a full file system: exit 4, clear error, no bundle, no temp file"
	stage_of "$T_DIR/s" 400
	expect_exit 4 "$KC" seal "$T_DIR/s" -o "$MNT/big.tar.gz" --key "$W/k.pem"
	nospace_ok
	[ -z "$(ls -A "$MNT")" ] || t_fail "left on the full file system: $(ls -A "$MNT" | tr '\n' ' ')"
	t_pass

	t_begin "faults/b: positive twin: the same seal with room succeeds and verifies"
	stage_of "$T_DIR/s" 64
	expect_exit 0 "$KC" seal "$T_DIR/s" -o "$MNT/small.tar.gz" --key "$W/k.pem"
	expect_exit 0 "$KC" verify "$MNT/small.tar.gz" --pubkey "$W/k.pub"
	[ "$(ls -A "$MNT")" = small.tar.gz ] || t_fail "unexpected files: $(ls -A "$MNT" | tr '\n' ' ')"
	rm -f "$MNT/small.tar.gz"
	t_pass

	t_begin "faults/b: collect onto a full file system (staging there too): exit 4, nothing left"
	expect_exit 4 "$KC" collect --kubeconfig "$KCFG" --case F --phase pre --agents '' --no-reviews \
		--page-size 20 --key "$W/k.pem" -o "$MNT/" -q
	nospace_ok
	[ -z "$(ls -A "$MNT")" ] || t_fail "left on the full file system: $(ls -A "$MNT" | tr '\n' ' ')"
	[ -s "$T_OUT" ] && t_fail "a path was printed: $(cat "$T_OUT")"
	t_pass

	t_begin "faults/b: custody append on a full file system: exit 4, the ledger not torn"
	bundle_of "$MNT/l.tar.gz" 4 || t_fail "cannot make the bundle"
	L=$MNT/l.tar.gz.custody.jsonl
	fill_up
	failed=0
	for i in $(seq 1 30); do
		before=$(lines "$L") size=$(stat -c %s "$L")
		cp "$L" "$T_DIR/ledger.before"
		rc=0
		"$KC" custody append "$MNT/l.tar.gz" --action verified --key "$W/k.pem" --name Tester \
			--note "append $i, padding the line so that it crosses a page soon: $(printf '%0200d' 0)" \
			>"$T_OUT" 2>"$T_ERR" || rc=$?
		[ "$rc" = 0 ] && continue
		failed=1
		[ "$rc" = 4 ] || t_fail "append on a full file system: exit $rc, not 4"
		nospace_ok
		[ "$(lines "$L")" = "$before" ] || t_fail "the ledger has $(lines "$L") lines, $before before"
		[ "$(stat -c %s "$L")" = "$size" ] || t_fail "the ledger is $(stat -c %s "$L") bytes, $size before"
		cmp -s "$L" "$T_DIR/ledger.before" || t_fail "the ledger changed"
		"$KC" custody verify "$MNT/l.tar.gz" >/dev/null 2>&1 || t_fail "the ledger no longer verifies"
		echo "  append $i failed as it should (ledger $before lines, $size bytes, unchanged)"
		break
	done
	[ "$failed" = 1 ] || t_fail "30 appends on a full file system all succeeded?"
	stray=$(strangers "$MNT" l.tar.gz l.tar.gz.custody.jsonl fill)
	[ -z "$stray" ] || t_fail "left behind: $stray"
	t_pass

	t_begin "faults/b: positive twin: with room again the append succeeds, one more line, verifies"
	rm -f "$MNT/fill"
	before=$(lines "$L")
	expect_exit 0 "$KC" custody append "$MNT/l.tar.gz" --action verified --key "$W/k.pem" --name Tester
	[ "$(lines "$L")" = $((before + 1)) ] || t_fail "expected $((before + 1)) lines, got $(lines "$L")"
	expect_exit 0 "$KC" custody verify "$MNT/l.tar.gz"
	rm -f "$MNT"/l.tar.gz*
	t_pass

	t_begin "faults/b: archive put into a full store (the bundle does not fit): exit 4, store and ledger unchanged"
	bundle_of "$W/big.tar.gz" 400 || t_fail "cannot make the bundle"
	S=$MNT/store
	bundle_of "$W/tiny.tar.gz" 1 || t_fail "cannot make the tiny bundle"
	expect_exit 0 "$KC" archive put "$W/tiny.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester
	find "$S" -type f ! -name .lock | sort >"$T_DIR/store.before"
	cp "$S/index.json" "$T_DIR/index.before" 2>/dev/null
	before=$(lines "$W/big.tar.gz.custody.jsonl")
	expect_exit 4 "$KC" archive put "$W/big.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester
	nospace_ok
	find "$S" -type f ! -name .lock | sort >"$T_DIR/store.after"
	diff "$T_DIR/store.before" "$T_DIR/store.after" >/dev/null || t_fail "files in the store changed: $(diff "$T_DIR/store.before" "$T_DIR/store.after" | grep '^[<>]' | tr '\n' ' ')"
	[ "$(lines "$W/big.tar.gz.custody.jsonl")" = "$before" ] || t_fail "the bundle's ledger grew: an 'archived' entry for a failed put"
	expect_exit 0 "$KC" custody verify "$W/big.tar.gz"
	expect_exit 0 "$KC" archive verify --all --store "$S"
	t_pass

	t_begin "faults/b: archive put where the bundle fits but its ledger copy and index do not: exit 4, no 'archived' claim"
	bundle_of "$W/mid.tar.gz" 100 || t_fail "cannot make the bundle"
	size=$(stat -c %s "$W/mid.tar.gz")
	avail=$(($(stat -f -c '%a * %S' "$MNT")))
	# leave room for the object (rounded up to pages) and nothing else
	fill=$((avail - (size + 4095) / 4096 * 4096))
	[ "$fill" -gt 0 ] && head -c "$fill" /dev/zero >"$MNT/fill" 2>/dev/null
	before=$(lines "$W/mid.tar.gz.custody.jsonl")
	cp "$S/index.json" "$T_DIR/index.before" 2>/dev/null
	rc=0
	"$KC" archive put "$W/mid.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester \
		>"$T_OUT" 2>"$T_ERR" || rc=$?
	echo "  put with room for the object only: exit $rc"
	if [ "$rc" = 0 ]; then
		t_fail "put succeeded on a full store"
	else
		[ "$rc" = 4 ] || t_fail "exit $rc, not 4"
		nospace_ok
		cmp -s "$S/index.json" "$T_DIR/index.before" || t_fail "the index changed"
		[ "$(lines "$W/mid.tar.gz.custody.jsonl")" = "$before" ] ||
			t_fail "the bundle's ledger records 'archived' for a put that failed"
		expect_exit 0 "$KC" custody verify "$W/mid.tar.gz"
		[ -z "$(find "$S" -name '*.tmp.*')" ] || t_fail "temporary file left: $(find "$S" -name '*.tmp.*')"
	fi
	expect_exit 0 "$KC" archive verify --all --store "$S"
	t_pass

	t_begin "faults/b: positive twin: with room the same put succeeds and the store verifies"
	rm -f "$MNT/fill"
	expect_exit 0 "$KC" archive put "$W/mid.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester
	expect_exit 0 "$KC" archive verify --all --store "$S"
	expect_exit 0 "$KC" custody verify "$W/mid.tar.gz"
	[ "$(grep -c '"archived"' "$W/mid.tar.gz.custody.jsonl")" = 1 ] || t_fail "expected exactly one 'archived' entry"
	t_pass
	umount "$MNT"
fi

# ------------------------------------------------------------ (c) SIGKILL
# kill_after MS CMD...: run CMD, SIGKILL it after MS milliseconds (if it is
# still running); prints CMD's exit status (137 when killed).
kill_after() {
	local d=$1 p rc=0
	shift
	"$@" >/dev/null 2>&1 &
	p=$!
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	kill -KILL "$p" 2>/dev/null
	wait "$p" || rc=$?
	echo "$rc"
}
# A delay for kill I of 20 over a command of DUR ms (its measured run):
# one in four in the first 10% (start-up), one in four from 80% to 150%
# (sealing, the rename, the ledger; some runs finish), the rest from 10%
# to 110% (the staging folder exists within the first few milliseconds).
delay_for() { # I DUR
	local u=$((RANDOM % 1000))
	case $(($1 % 4)) in
	0) echo $(($2 * u / 10000)) ;;
	1) echo $(($2 * (800 + u * 7 / 10) / 1000)) ;;
	*) echo $(($2 * (100 + u) / 1000)) ;;
	esac
}
# Files left in an output folder after a kill, by kind.
check_leftovers() { # DIR: every *.tar.gz verifies; everything else is a known temp or ledger
	local d=$1 f
	for f in "$d"/*.tar.gz; do
		[ -e "$f" ] || continue
		if ! "$KC" verify "$f" --pubkey "$W/k.pub" >/dev/null 2>"$T_DIR/verify.err"; then
			t_fail "kill $i ($delay ms): '$f' is under a final name but does not verify: $(head -n 2 "$T_DIR/verify.err")"
		fi
		if grep -q '\.tmp\.' <(members "$f"); then	# not a pipe: with pipefail, tar's SIGPIPE would hide a match
			t_fail "kill $i ($delay ms): '$f' holds a temporary file as a member"
		fi
	done
	for f in "$d"/*.custody.jsonl; do
		[ -s "$f" ] || continue
		"$KC" custody verify "${f%.custody.jsonl}" >/dev/null 2>&1 || t_fail "kill $i: ledger '$f' does not verify"
	done
	# (fed by process substitution: in a pipeline the loop is a subshell,
	# and its t_fail never reached this test)
	while read -r f; do
		case $f in
		.kcustody-staging.?????? | .kcustody-seal.?????? | *.tar.gz | *.tar.gz.custody.jsonl) ;;
		*) t_fail "kill $i: unexpected file left: $f" ;;
		esac
	done < <(find "$d" -mindepth 1 -maxdepth 1 -printf '%f\n')
}

t_begin "faults/c: collect SIGKILLed at 20 moments: a bundle under its final name always verifies; leftovers are dot-named temps only"
echo "  collect: ${COLLECT_MS} ms a run; delays (ms): $(
	RANDOM=$((SEED + 1))
	for i in $(seq 1 20); do delay_for "$i" "$COLLECT_MS"; done | tr '\n' ' '
)"
RANDOM=$((SEED + 1))
killed=0 finished=0
for i in $(seq 1 20); do
	delay=$(delay_for "$i" "$COLLECT_MS")
	mkdir -p "$T_DIR/c"
	rc=$(kill_after "$delay" "$KC" collect --kubeconfig "$KCFG" --case F --phase pre --agents '' --no-reviews \
		--page-size 20 --key "$W/k.pem" -o "$T_DIR/c/" -q)
	if [ "$rc" = 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
	check_leftovers "$T_DIR/c"
	# Bundles are named by the second: keep the folder, move finished bundles aside.
	mkdir -p "$T_DIR/done"
	for f in "$T_DIR"/c/*.tar.gz; do [ -e "$f" ] && mv "$f" "$f".custody.jsonl "$T_DIR/done/" 2>/dev/null; done
done
left=$(find "$T_DIR/c" -mindepth 1 -maxdepth 1 | wc -l)
echo "  collect: $killed killed, $finished finished; $(ls "$T_DIR"/done/*.tar.gz 2>/dev/null | wc -l) bundles" \
	"under final names (all verified); $left temporary entries left in the output folder"
# A later run into the same folder succeeds and ignores them.
expect_exit 0 "$KC" collect --kubeconfig "$KCFG" --case F --phase pre --agents '' --no-reviews \
	--page-size 20 --key "$W/k.pem" -o "$T_DIR/c/" -q
expect_exit 0 "$KC" verify "$(cat "$T_OUT")" --pubkey "$W/k.pub"
t_pass

t_begin "faults/c: seal ignores and removes the temp files an interrupted seal leaves in the folder"
stage_of "$T_DIR/s" 8
for m in MANIFEST.json SHA256SUMS SHA256SUMS.sig VERIFY.txt; do echo stale >"$T_DIR/s/$m.tmp.4242"; done
expect_exit 0 "$KC" seal "$T_DIR/s" -o "$T_DIR/b.tar.gz" --key "$W/k.pem"
members "$T_DIR/b.tar.gz" | grep '\.tmp\.' && t_fail "a temporary file was sealed as evidence"
[ -z "$(find "$T_DIR/s" -name '*.tmp.*')" ] || t_fail "the stale temporary files are still there"
expect_exit 0 "$KC" verify "$T_DIR/b.tar.gz" --pubkey "$W/k.pub"
t_pass

t_begin "faults/c: seal SIGKILLed at 20 moments (the same folder each time): bundles under final names verify, a later seal succeeds"
stage_of "$T_DIR/s" 6144
for j in $(seq 1 40); do head -c 2048 /dev/urandom >"$T_DIR/s/f$j.bin"; done
t=$(date +%s%N)
expect_exit 0 "$KC" seal "$T_DIR/s" -o "$T_DIR/ref.tar.gz" --key "$W/k.pem"
SEAL_MS=$(ms "$t")
members "$T_DIR/ref.tar.gz" | sed 's#^[^/]*/##' | sort >"$T_DIR/ref.members"
rm -f "$T_DIR/ref.tar.gz"
RANDOM=$((SEED + 2))
killed=0 sealed=0
mkdir -p "$T_DIR/o"
ds=()
for i in $(seq 1 20); do
	delay=$(delay_for "$i" "$SEAL_MS")
	ds+=("$delay")
	rc=$(kill_after "$delay" "$KC" seal "$T_DIR/s" -o "$T_DIR/o/b$i.tar.gz" --key "$W/k.pem")
	[ "$rc" = 137 ] && killed=$((killed + 1))
	[ -e "$T_DIR/o/b$i.tar.gz" ] && sealed=$((sealed + 1))
	check_leftovers "$T_DIR/o"
	for f in "$T_DIR"/s/*.tmp.*; do [ -e "$f" ] && echo "  kill $i ($delay ms) left ${f##*/} in the folder"; done
done
echo "  seal: ${SEAL_MS} ms a run; delays (ms): ${ds[*]}; $killed killed; $sealed bundles under final names (all verified)"
echo "  left in the output folder: $(find "$T_DIR/o" -mindepth 1 -name '.kcustody-*' | wc -l) temporary files"
expect_exit 0 "$KC" seal "$T_DIR/s" -o "$T_DIR/final.tar.gz" --key "$W/k.pem"
expect_exit 0 "$KC" verify "$T_DIR/final.tar.gz" --pubkey "$W/k.pub"
members "$T_DIR/final.tar.gz" | sed 's#^[^/]*/##' | sort | diff - "$T_DIR/ref.members" >/dev/null ||
	t_fail "the seal after the kills has other members than a clean one"
t_pass

t_begin "faults/c: archive put SIGKILLed at 20 moments: the store lists and verifies, objects are intact, a later put succeeds"
S=$T_DIR/store
bundle_of "$T_DIR/seed.tar.gz" 1 && "$KC" archive put "$T_DIR/seed.tar.gz" --store "$S" --retain 1d \
	--key "$W/k.pem" --name Tester >/dev/null 2>&1 || t_fail "cannot start the store"
for i in $(seq 1 21); do bundle_of "$T_DIR/p$i.tar.gz" 4096 || t_fail "cannot make bundle $i"; done
t=$(date +%s%N)
expect_exit 0 "$KC" archive put "$T_DIR/p21.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester
PUT_MS=$(ms "$t")
RANDOM=$((SEED + 3))
killed=0 ds=()
for i in $(seq 1 20); do
	delay=$(delay_for "$i" "$PUT_MS")
	ds+=("$delay")
	rc=$(kill_after "$delay" "$KC" archive put "$T_DIR/p$i.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester)
	[ "$rc" = 137 ] && killed=$((killed + 1))
	"$KC" archive list --store "$S" --json >"$T_DIR/list.json" 2>"$T_ERR" || t_fail "kill $i: archive list fails"
	"$KC" archive verify --all --store "$S" >"$T_DIR/verify.out" 2>&1 ||
		t_fail "kill $i ($delay ms): archive verify fails: $(head -n 3 "$T_DIR/verify.out")"
	for o in "$S"/objects/*; do
		n=${o##*/}
		case $n in
		*.tmp.*) continue ;;
		esac
		[ "$(sha256sum <"$o" | cut -c1-64)" = "$n" ] || t_fail "kill $i: object $n is not intact"
	done
	"$KC" custody verify "$T_DIR/p$i.tar.gz" >/dev/null 2>&1 || t_fail "kill $i: the bundle's ledger does not verify"
	# a later put of the same bundle succeeds, or finds it stored already
	rc2=0
	"$KC" archive put "$T_DIR/p$i.tar.gz" --store "$S" --retain 1d --key "$W/k.pem" --name Tester \
		>/dev/null 2>"$T_DIR/put.err" || rc2=$?
	if [ "$rc2" != 0 ] && ! grep -q 'already in this store' "$T_DIR/put.err"; then
		t_fail "kill $i ($delay ms): the put after the kill fails (exit $rc2): $(head -n 2 "$T_DIR/put.err")"
	fi
	"$KC" custody verify "$T_DIR/p$i.tar.gz" >/dev/null 2>&1 || t_fail "kill $i: the ledger does not verify after the re-put"
done
echo "  archive put: ${PUT_MS} ms a run; delays (ms): ${ds[*]}; $killed killed"
twice=0
for i in $(seq 1 20); do
	[ "$(grep -c '"archived"' "$T_DIR/p$i.tar.gz.custody.jsonl")" -gt 1 ] && twice=$((twice + 1))
done
echo "  bundles whose ledger records 'archived' twice (killed after the entry, before the index): $twice"
echo "  left in the store: $(find "$S" -name '*.tmp.*' | wc -l) temporary files"
expect_exit 0 "$KC" archive verify --all --store "$S" --json
# leftovers are reported as unindexed, never counted as items
jq -e '.checked == 22 and .damaged == 0 and
	all(.unindexed[]?; test("^[0-9a-f]{64}(\\.tmp\\.[0-9]+)?$"))' "$T_OUT" >/dev/null ||
	t_fail "archive verify: unexpected report: $(jq -c '{checked, damaged, unindexed}' "$T_OUT")"
n=$("$KC" archive list --store "$S" --json | jq 'length')
[ "$n" = 22 ] || t_fail "expected 22 items in the store, got $n"
t_pass

echo "  elapsed: $(ms "$T0") ms"
t_summary
