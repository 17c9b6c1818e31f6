#!/usr/bin/env bash
# Demo: build, start two pluto daemons (west on 127.0.0.1, east on 127.0.0.2,
# --use-nostack), add a PSK tunnel between 10.1.0.0/24 and 10.2.0.0/24 on
# both with whack, initiate from west, print the transcript and both
# daemons' status, stop them. Then decode every recorded strongSwan/libreswan
# exchange with ikedump, deriving all keys and verifying every hash.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p bin
go build -o bin/ ./...

work=$(mktemp -d)
cleanup() {
	for side in west east; do
		[ -f "$work/$side.shpid" ] && kill "$(cat "$work/$side.shpid")" 2>/dev/null || true
	done
	sleep 0.2
	rm -rf "$work"
}
trap cleanup EXIT
echo '127.0.0.1 127.0.0.2 : PSK "demo-secret-not-for-production"' >"$work/ipsec.secrets"
chmod 600 "$work/ipsec.secrets"

start() { # name addr port
	bin/pluto --nofork --stderrlog --use-nostack --listen "$2" --ikeport "$3" \
		--ctlbase "$work/$1" --secretsfile "$work/ipsec.secrets" 2>"$work/$1.log" &
	echo $! >"$work/$1.shpid"
	for _ in $(seq 100); do [ -S "$work/$1.ctl" ] && return; sleep 0.05; done
	echo "pluto $1 did not start:"; cat "$work/$1.log"; exit 1
}
start west 127.0.0.1 5500
start east 127.0.0.2 5501

conn=(--name west-east --host 127.0.0.1 --ikeport 5500 --client 10.1.0.0/24
	--to --host 127.0.0.2 --ikeport 5501 --client 10.2.0.0/24
	--psk --encrypt --tunnel --pfs --ike aes128-sha1-modp2048 --esp aes128-sha1)
bin/whack --ctlbase "$work/west" "${conn[@]}"
bin/whack --ctlbase "$work/east" "${conn[@]}"
echo "=== whack --name west-east --initiate"
bin/whack --ctlbase "$work/west" --name west-east --initiate
echo "=== whack exit status: $?"
echo "=== west: whack --status"
bin/whack --ctlbase "$work/west" --status
echo "=== east: whack --status"
bin/whack --ctlbase "$work/east" --status
bin/whack --ctlbase "$work/west" --shutdown
bin/whack --ctlbase "$work/east" --shutdown
sleep 0.3
echo "=== east's log"
cat "$work/east.log"

echo
echo "=== ikedump on the recorded strongSwan/libreswan exchanges"
status=0
for dir in testvectors/data/*/; do
	name=$(basename "$dir")
	mapfile -t args < <(go run ./testvectors/cmd/vectorargs "$name")
	if bin/ikedump "${args[@]}" "$dir/exchange.pcap" >"$work/ikedump.out"; then
		echo "$name: $(tail -n 1 "$work/ikedump.out")"
	else
		echo "$name: FAILED"; cat "$work/ikedump.out"; status=1
	fi
done
exit $status
