#!/usr/bin/env bash
# Comparative responder benchmark: our pluto (--use-nostack), strongSwan
# 5.9.8 (charon) and libreswan 4.10 (pluto) as IKEv1 responders in netns
# east, driven by the same load generator (ikeload) from netns west, with the
# same group and algorithms, one after the other in the same run.
#
#   sudo scripts/bench-responders.sh [N] [CONCURRENCY]      (root; default 1000 50)
#   RESPONDERS="goswan strongswan libreswan" IKE=aes128-sha1-modp2048 ESP=aes128-sha1
#   WARMUP=50: handshakes (deleted at once) before the measured run, so that
#           one-time costs (tables built on first use, allocator arenas) are
#           not counted as memory per SA pair
#   KEEP=0: delete each SA pair as soon as it is up (Delete payloads sent; every
#           handshake then also costs the responder a Delete), no memory figure
#
# Each responder takes a Road Warrior connection (peer %any, PSK, host to
# host, transport mode) and N handshakes from N source addresses in
# 10.128.0.0/16 (a "local" route on west's loopback; east routes it back
# through west0); the generator keeps every SA pair, so the responder holds
# N ISAKMP+IPsec SA pairs when its memory is read, then deletes them.
# Figures per responder, from /proc/PID of the responder process:
#   handshakes/s       established / (first start .. last completion)
#   CPU ms/handshake   (utime+stime after - before) / established
#   bytes/SA pair      (VmRSS holding N pairs - VmRSS before) / N
# The generator runs on the same machine (it does as much DH work as the
# responder), so handshakes/s is bounded by it and by other load; CPU per
# handshake is the robust comparison.
#
# strongSwan and libreswan run with ../shared/peers' fakesa.so (this kernel
# has no ESP: their SA installs are acknowledged without effect, their XFRM
# policies are real); ours runs with --use-nostack (no kernel calls).
# Configs are generated here (under $WORK), not in ../shared/peers.
# Every namespace step holds /tmp/goswan-netns.lock, one responder at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
N=${1:-1000}
CONC=${2:-50}
RESPONDERS=${RESPONDERS:-goswan strongswan libreswan}
IKE=${IKE:-aes128-sha1-modp2048}
ESP=${ESP:-aes128-sha1}
PSK=${PSK:-bench-psk-0123456789}
KEEP=${KEEP:-1}
WARMUP=${WARMUP:-50}
WORK=${WORK:-$(mktemp -d /tmp/goswan-bench.XXXXXX)}
LOCK=/tmp/goswan-netns.lock
SRC_NET=10.128.0.0/16
EAST=192.0.2.2
export PATH="$PATH:/usr/local/go/bin"

[ "$(id -u)" = 0 ] || { echo "bench-responders: needs root (network namespaces)" >&2; exit 2; }
[ "$N" -ge 1 ] && [ "$N" -le 60000 ] || { echo "bench-responders: N must be 1..60000" >&2; exit 2; } # (10.128.250.x: warm-up)
SOURCES="10.128.0.1-10.128.$(( N / 256 )).$(( N % 256 ))" # N addresses

mkdir -p "$WORK/bin"
go build -o "$WORK/bin/" ./pluto/cmd/pluto ./whack/cmd/whack ./ikeload/cmd/ikeload
if [ ! -x "$PEERS/.root/libreswan/usr/libexec/ipsec/pluto" ] || [ ! -f "$PEERS/.root/fakesa.so" ] || [ ! -x /usr/lib/ipsec/charon ]; then
	"$PEERS/install.sh" >"$WORK/install.log" 2>&1 || { tail -20 "$WORK/install.log"; exit 1; }
fi
LSW=$PEERS/.root/libreswan

# lsw_ike turns IKE=aes128-sha1-modp2048 into libreswan's aes128-sha1;modp2048.
lsw_ike() { echo "$1" | sed -E 's/-(modp[0-9]+|ecp[0-9]+)$/;\1/'; }

RPID=
stop_responder() {
	[ -n "$RPID" ] || return 0
	case $1 in
	goswan) "$WORK/bin/whack" --ctlbase "$WORK/goswan/pluto" --shutdown >/dev/null 2>&1 || true ;;
	libreswan) IPSEC_EXECDIR=$LSW/usr/libexec/ipsec timeout 5 "$LSW/usr/libexec/ipsec/whack" --ctlsocket "$WORK/libreswan/run/pluto.ctl" --shutdown >/dev/null 2>&1 || true ;;
	esac
	kill -TERM "$RPID" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$RPID" 2>/dev/null || true
	wait "$RPID" 2>/dev/null || true
	RPID=
}

wait_for() { # file seconds
	for _ in $(seq 1 $(( $2 * 10 ))); do [ -e "$1" ] && return 0; kill -0 "$RPID" 2>/dev/null || return 1; sleep 0.1; done
	return 1
}

start_goswan() {
	local d=$WORK/goswan
	mkdir -p "$d"
	printf '%s %%any : PSK "%s"\n' "$EAST" "$PSK" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	ip netns exec east "$WORK/bin/pluto" --nofork --stderrlog --use-nostack --listen "$EAST" \
		--ctlbase "$d/pluto" --secretsfile "$d/ipsec.secrets" >"$d/pluto.log" 2>&1 </dev/null &
	RPID=$!
	wait_for "$d/pluto.ctl" 10 || { tail "$d/pluto.log"; return 1; }
	"$WORK/bin/whack" --ctlbase "$d/pluto" --name rw --host "$EAST" --to --host %any \
		--psk --encrypt --ike "$IKE" --esp "$ESP" >"$d/add.out" 2>&1 || { cat "$d/add.out"; return 1; }
}

start_strongswan() {
	local d=$WORK/strongswan
	mkdir -p "$d/swanctl"/{conf.d,private,pubkey,x509,x509ca,rsa,ecdsa,pkcs8}
	cat >"$d/strongswan.conf" <<EOF
charon {
    load = random nonce openssl aes sha1 sha2 md5 mgf1 hmac gmp curve25519 kdf pem pkcs1 pkcs8 pubkey x509 kernel-netlink socket-default vici
    port = 500
    port_nat_t = 4500
    retransmit_tries = 2
    block_threshold = 100000
    init_limit_half_open = 0
    install_virtual_ip = no
    filelog {
        main {
            path = $d/charon.log
            default = 1
        }
    }
    plugins {
        vici {
            socket = unix://$d/charon.vici
        }
    }
}
swanctl {
    load = random nonce openssl pem pkcs1 pkcs8 pubkey x509
}
EOF
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
    rw {
        version = 1
        local_addrs = $EAST
        remote_addrs = %any
        proposals = $IKE
        encap = no
        dpd_delay = 0
        local {
            auth = psk
            id = $EAST
        }
        remote {
            auth = psk
            id = %any
        }
        children {
            rw {
                esp_proposals = $ESP
                mode = transport
                start_action = none
            }
        }
    }
}
secrets {
    ike-rw {
        id-1 = $EAST
        id-2 = %any
        secret = "$PSK"
    }
}
EOF
	ip netns exec east env LD_PRELOAD="$PEERS/.root/fakesa.so" unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && exec env STRONGSWAN_CONF="$1" /usr/lib/ipsec/charon' _ "$d/strongswan.conf" \
		>"$d/charon.stdout" 2>&1 </dev/null &
	RPID=$!
	wait_for "$d/charon.vici" 10 || { cat "$d/charon.stdout"; return 1; }
	STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl swanctl --load-all --noprompt --uri "unix://$d/charon.vici" \
		>"$d/load.out" 2>&1 || { cat "$d/load.out"; return 1; }
}

start_libreswan() {
	local d=$WORK/libreswan
	mkdir -p "$d/run" "$d/nss" "$d/ipsec.d"
	cat >"$d/ipsec.conf" <<EOF
config setup
	plutodebug=none
	uniqueids=no
	dnssec-enable=no
	ikev1-policy=accept

conn rw
	ikev2=no
	aggressive=no
	authby=secret
	type=transport
	left=$EAST
	leftid=$EAST
	right=%any
	ike=$(lsw_ike "$IKE")
	esp=$ESP
	pfs=no
	encapsulation=no
	rekey=no
	keyingtries=1
	ikelifetime=1h
	salifetime=1h
	auto=add
EOF
	printf '%s %%any : PSK "%s"\n' "$EAST" "$PSK" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	export IPSEC_EXECDIR=$LSW/usr/libexec/ipsec IPSEC_SBINDIR=$LSW/usr/sbin IPSEC_CONF=$d/ipsec.conf \
		IPSEC_CONFDDIR=$d/ipsec.d IPSEC_RUNDIR=$d/run IPSEC_NSSDIR=$d/nss
	[ -f "$d/nss/cert9.db" ] || PATH=$LSW/usr/sbin:$LSW/usr/libexec/ipsec:$PATH "$LSW/usr/sbin/ipsec" initnss --nssdir "$d/nss" >"$d/initnss.out" 2>&1
	ip netns exec east env LD_PRELOAD="$PEERS/.root/fakesa.so" unshare -m --propagation private sh -c \
		'mount --bind "$1/usr/libexec" /usr/libexec && shift && exec "$@"' _ "$LSW" \
		"$LSW/usr/libexec/ipsec/pluto" --nofork --stderrlog --config "$d/ipsec.conf" --rundir "$d/run" --nssdir "$d/nss" \
		--secretsfile "$d/ipsec.secrets" --ipsecdir "$d/ipsec.d" --dumpdir "$d/run" >"$d/pluto.log" 2>&1 </dev/null &
	RPID=$!
	wait_for "$d/run/pluto.ctl" 20 || { tail "$d/pluto.log"; return 1; }
	local w=$LSW/usr/libexec/ipsec/whack
	"$w" --ctlsocket "$d/run/pluto.ctl" --listen >"$d/listen.out" 2>&1
	PATH=$LSW/usr/sbin:$LSW/usr/libexec/ipsec:$PATH "$LSW/usr/sbin/ipsec" auto --config "$d/ipsec.conf" --add rw >"$d/add.out" 2>&1 \
		|| { cat "$d/add.out"; return 1; }
}

# one_responder NAME: everything in the namespaces for one responder, under the lock.
one_responder() {
	local name=$1 own_topo=0 rc=0 keepflag=--keep
	[ "$KEEP" = 1 ] || keepflag=
	if ! ip netns list | grep -qw west; then
		"$PEERS/topo.sh" up >/dev/null
		own_topo=1
	fi
	ip -n west route add local "$SRC_NET" dev lo 2>/dev/null || true
	ip -n east route add "$SRC_NET" via 192.0.2.1 2>/dev/null || true
	if "start_$name" >"$WORK/$name.start" 2>&1; then
		sleep 0.5 # settle (startup allocations)
		if [ "$WARMUP" -gt 0 ]; then
			ip netns exec west "$WORK/bin/ikeload" --target "$EAST" --sources 10.128.250.1-10.128.250.100 -n "$WARMUP" -c 10 \
				--ike "$IKE" --esp "$ESP" --psk "$PSK" --quiet >"$WORK/$name.warmup" 2>&1 || true
			sleep 1
		fi
		ip netns exec west "$WORK/bin/ikeload" --target "$EAST" --sources "$SOURCES" -n "$N" -c "$CONC" \
			--ike "$IKE" --esp "$ESP" --psk "$PSK" $keepflag --pid "$RPID" --timeout 60s --retransmit 5s \
			--quiet --row "$name" >>"$WORK/rows" 2>"$WORK/$name.ikeload" || rc=$?
		cat "$WORK/$name.ikeload" >&2
	else
		echo "bench-responders: $name did not start:" >&2
		cat "$WORK/$name.start" >&2
		printf '%-16s %11s\n' "$name" "not started" >>"$WORK/rows"
		rc=1
	fi
	stop_responder "$name"
	ip -n west route del local "$SRC_NET" dev lo 2>/dev/null || true
	ip -n east route del "$SRC_NET" via 192.0.2.1 2>/dev/null || true
	[ $own_topo = 1 ] && "$PEERS/topo.sh" down >/dev/null
	return $rc
}

trap 'stop_responder x' EXIT
: >"$WORK/rows"
status=0
for r in $RESPONDERS; do
	export -f one_responder "start_$r" stop_responder wait_for lsw_ike
	export WORK PEERS N CONC IKE ESP PSK SRC_NET EAST SOURCES LSW KEEP WARMUP
	t0=$(date +%s.%N)
	flock -o "$LOCK" bash -c "set -uo pipefail; RPID=; one_responder $r" || status=1
	printf 'bench-responders: %s done in %.1f s\n' "$r" "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" >&2
done
kept="SAs kept"
[ "$KEEP" = 1 ] || kept="each SA pair deleted once up"
echo "== IKEv1 responders, $N Main Mode + Quick Mode handshakes ($IKE / $ESP, PSK, $CONC in flight, $kept), same machine"
"$WORK/bin/ikeload" --header
cat "$WORK/rows"
echo "(CPU and RSS of the responder process from /proc, after $WARMUP warm-up handshakes; figures in $WORK)"
exit $status
