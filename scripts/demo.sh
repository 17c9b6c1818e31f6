#!/usr/bin/env bash
# Demo: decode every recorded strongSwan/libreswan exchange with ikedump,
# deriving all keys from the recorded PSK and g^xy and verifying every hash.
# (Once the daemon exists this demo also brings up two plutos.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p bin
go build -o bin/ ./...
status=0
for dir in testvectors/data/*/; do
	name=$(basename "$dir")
	mapfile -t args < <(go run ./testvectors/cmd/vectorargs "$name")
	echo "=== $name: ikedump ${args[*]} $dir/exchange.pcap"
	if ! bin/ikedump "${args[@]}" "$dir/exchange.pcap"; then
		status=1
	fi
done
exit $status
