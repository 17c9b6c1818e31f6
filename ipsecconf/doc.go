// Package ipsecconf reads ipsec.conf in the Openswan/libreswan syntax and
// turns its conns into whack messages; the ipsec command
// (ipsecconf/cmd/ipsec) uses it for `ipsec setup` and `ipsec auto`.
//
// # Syntax
//
//	version 2.0                  # optional; "2" or "2.0"
//	config setup                 # sections start in column 1
//	        plutodebug="control parsing"
//	include /etc/ipsec.d/*.conf  # relative names: to the including file; wildcards may match nothing
//	conn %default                # defaults for every conn
//	        keyingtries=3
//	conn west-east
//	        also=west            # keywords of conn "west" (those set here win)
//	        left=192.0.2.1       # keywords are indented: keyword=value
//	        leftid="@west"       # "quoted" values may hold blanks; # starts a comment after white space
//
// A keyword may be given once per section (also= more than once); "key="
// with an empty value unsets it (and blocks %default). also= may name
// conns anywhere in the files, nests, and must not loop; auto= is not taken
// through also= (a base section's auto=ignore does not switch off the conns
// that use it). conn %default may appear several times but gives each
// keyword at most one default, and holds no also=. Unknown keywords, bad
// values, a dangling also=, a bad section line, a duplicate conn and an
// unindented keyword are errors naming file, line, section and keyword:
//
//	/etc/ipsec.conf:12: conn "west-east": unknown keyword "lefsubnet"
//
// # Keywords
//
// conn (leftX also as rightX), as whack options (Conn.Messages):
//
//	left right                   --host: IP, %any, %any6, %defaultroute (the default route's address, and its
//	                             gateway as nexthop), a DNS name (resolved); %opportunistic, %group: not supported
//	leftsubnet leftsubnetwithin  --client / --clientwithin (address/bits; a bare address is one host)
//	leftsubnets={a b}            one connection per subnet pair, named NAME/LxR (see Instances)
//	leftnexthop                  --nexthop (IP, %direct, %defaultroute)
//	leftid                       --id
//	leftrsasigkey leftrsasigkey2 a key message: --keyid (leftid, else the address) [--addkey for ...2] --pubkeyrsa;
//	                             %cert and %none send nothing; %dnsondemand: not supported
//	leftcert leftca leftgroups leftsendcert leftupdown   --cert --ca --groups --sendcert --updown
//	leftprotoport leftsourceip   --clientprotoport --srcip
//	leftikeport                  --ikeport (libreswan keyword; how two daemons share a host)
//	leftxauthserver leftxauthclient leftmodecfgserver leftmodecfgclient (yes/no)   the same-named flags
//	leftxauthusername leftusername   the XAUTH user name of this end as a client (whack --initiate
//	                             --xauthuser overrides; the password: that user's XAUTH entry in ipsec.secrets)
//	leftaddresspool              the one address a ModeCfg server hands out to this end (a-a or a/32),
//	                             this end's --client when leftsubnet= is not given; larger pools: error
//	                             (bare xauthusername, username and addresspool are accepted as in libreswan)
//	authby                       secret: --psk; rsasig (default): --rsasig; secret|rsasig: both; never: only with a shunt type
//	type                         tunnel (default): --tunnel; transport; passthrough: --pass; drop: --drop; reject: --reject
//	phase2                       esp (default): --encrypt; ah: --authenticate
//	ike esp phase2alg            --ike, --esp (phase2alg is esp's alias; checked with goswan's proposal parser)
//	pfs pfsgroup compress        --pfs (default yes), --pfsgroup, --compress
//	ikelifetime                  --ikelifetime; keylife, salifetime, lifetime: --ipseclifetime
//	                             (times: seconds, or a number with s, m, h, d)
//	rekey=no rekeymargin rekeyfuzz keyingtries   --dontrekey --rekeymargin --rekeyfuzz --keyingtries (default %forever)
//	dpddelay dpdtimeout dpdaction               --dpddelay --dpdtimeout (one alone: the other defaults to 30s/120s) --dpdaction
//	aggrmode aggressive          --aggrmode
//	encapsulation=yes forceencaps=yes            --forceencaps
//	connaddrfamily metric mtu failureshunt disablearrivalcheck modecfgpull modecfgdns1 modecfgdns2
//	                             modecfgwins1 modecfgwins2   same-named options
//	keyexchange                  ike, ikev1; ikev2: error (IKEv1 only)
//	ikev2                        no, never, permit, propose; insist, yes: error (IKEv1 only)
//	auto                         add, route, start, ignore (default); ondemand = route (used by ipsec setup)
//	also                         see above
//	accepted, no effect: leftfirewall sha2_truncbug sha2-truncbug nat_keepalive ikepad nm_configured ike_frag
//	                     fragmentation remote_peer_type connalias
//
// config setup, as pluto options (Setup.PlutoOptions): plutodebug,
// interfaces, listen, ikeport (goswan extension), uniqueids (default yes),
// protostack (netkey/xfrm, nostack/none, auto), plutoopts, keylog and
// metrics (goswan extensions), logfile/plutostderrlog, secretsfile,
// ipsecdir, myid, perpeerlog, perpeerlogdir; ikev1-policy=accept;
// nat_traversal, keep_alive, force_keepalive, disable_port_floating;
// strictcrlpolicy; virtual_private (accepted with a warning: not
// implemented); accepted without effect: klipsdebug dnssec-enable logtime
// logappend logip plutorestartoncrash hidetos fragicmp
// oe=no nhelpers crlcheckinterval overridemtu plutowait dumpdir syslog
// plutostderrlogtime.
package ipsecconf
