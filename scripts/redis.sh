#!/usr/bin/env bash
# Throwaway Redis servers for the tests.
#
#   scripts/redis.sh start DIR   one standalone redis-server and a 3-node
#                                Redis Cluster on free ports (never 6379),
#                                with their files in DIR; writes DIR/env:
#                                FAULTLINE_REDIS_ADDR,
#                                FAULTLINE_REDIS_CLUSTER_ADDRS,
#                                FAULTLINE_REQUIRE_REDIS=1
#   scripts/redis.sh stop DIR    shuts them down and removes DIR
#
# Use: scripts/redis.sh start .redis/dev && set -a && . .redis/dev/env && set +a
set -euo pipefail

prog=${0##*/}
marker=.faultline-redis # in DIR: this script made it, stop may remove it

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start DIR | stop DIR" >&2
	exit 2
}

need_redis() {
	local missing=
	command -v redis-server >/dev/null || missing="redis-server"
	command -v redis-cli >/dev/null || missing="${missing:+$missing and }redis-cli"
	if [ -n "$missing" ]; then
		die "$missing not found on PATH: install Redis, e.g. on Debian or Ubuntu
  apt-get install redis-server    (redis-cli comes with it, in redis-tools)"
	fi
}

# listening PORT: something accepts connections on 127.0.0.1:PORT.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ping PORT: the server on PORT answers PONG.
ping() {
	[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

# launch PORT MODE: starts a daemonized redis-server on PORT, a cluster node
# when MODE is cluster, and waits until it answers; fails (leaving nothing
# running) when it does not.
launch() {
	local port=$1 extra=()
	if [ "$2" = cluster ]; then
		extra=(--cluster-enabled yes --cluster-node-timeout 2000
			--cluster-config-file "$dir/nodes-$port.conf")
	fi
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --dir "$dir" --pidfile "$dir/redis-$port.pid" \
		--logfile "$dir/redis-$port.log" "${extra[@]}" >/dev/null || return 1
	local i
	for i in $(seq 100); do
		ping "$port" && return 0
		grep -q -e aborting -e 'Failed listening' "$dir/redis-$port.log" 2>/dev/null && break
		sleep 0.05
	done
	stop_port "$port"
	return 1
}

# Ports are tried up from a random base, below the ephemeral range with
# their cluster bus ports (+10000) too, so that no outgoing connection holds
# them; never 6379.
eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
port_min=10000 port_max=$((eph - 10001))
if [ "$port_max" -lt $((port_min + 1000)) ]; then
	port_min=20000 port_max=22767
fi
next_port=$((port_min + RANDOM % (port_max - port_min)))

# candidate: sets port to the next port that is free with its bus port.
candidate() {
	while :; do
		next_port=$((next_port + 1))
		[ "$next_port" -gt "$port_max" ] && next_port=$port_min
		[ "$next_port" -eq 6379 ] && continue
		listening "$next_port" && continue
		listening "$((next_port + 10000))" && continue
		port=$next_port
		return
	done
}

# start_server MODE: launches one server (see launch) on the first free
# port that works and sets port to it.
start_server() {
	local try
	for try in 1 2 3 4 5; do
		candidate
		if launch "$port" "$1"; then
			return 0
		fi
		echo "$prog: no redis-server on port $port: $(tail -n 1 "$dir/redis-$port.log" 2>/dev/null)" >&2
	done
	return 1
}

# stop_port PORT: shuts down the server of DIR on PORT, found by its pid
# file: a server that is not ours (or no longer runs) is left alone.
stop_port() {
	local port=$1 pidfile="$dir/redis-$1.pid" pid= i
	[ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
	if [ -n "$pid" ] && is_ours "$pid"; then
		redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
		for i in $(seq 40); do
			is_ours "$pid" || break
			[ "$i" -eq 20 ] && kill "$pid" 2>/dev/null
			sleep 0.05
		done
		is_ours "$pid" && kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
}

# is_ours PID: PID runs and is a redis-server (a zombie, which a container's
# init may be slow to reap, has stopped).
is_ours() {
	local stat state comm
	if stat=$(cat "/proc/$1/stat" 2>/dev/null); then
		comm=${stat#*(}
		comm=${comm%%)*}
		state=${stat##*) }
		state=${state%% *}
	else
		read -r state comm < <(ps -o stat=,comm= -p "$1" 2>/dev/null) || return 1
	fi
	case $state in Z*) return 1 ;; esac
	case $comm in redis-server*) return 0 ;; esac
	return 1
}

stop() {
	[ -d "$dir" ] || return 0
	if [ ! -f "$dir/$marker" ]; then
		echo "$prog: $dir was not made by '$prog start'; leaving it alone" >&2
		return 1
	fi
	local pidfile port
	for pidfile in "$dir"/redis-*.pid; do
		[ -e "$pidfile" ] || continue
		port=${pidfile##*/redis-}
		port=${port%.pid}
		stop_port "$port"
	done
	rm -rf "$dir"
}

start() {
	need_redis
	if [ -f "$dir/$marker" ]; then
		stop # left over from an interrupted run
	fi
	[ -e "$dir" ] && die "$dir exists and was not made by '$prog start'"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	touch "$dir/$marker"
	trap 'start_failed $?' EXIT

	local single p1 p2 p3 port i
	start_server standalone || die "no standalone redis-server would start"
	single=$port
	local cluster=()
	for i in 1 2 3; do
		start_server cluster || die "no cluster node would start"
		cluster+=("$port")
	done
	p1=${cluster[0]} p2=${cluster[1]} p3=${cluster[2]}
	redis-cli --cluster create "127.0.0.1:$p1" "127.0.0.1:$p2" "127.0.0.1:$p3" \
		--cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
		die "redis-cli --cluster create failed: $(cat "$dir/cluster-create.log")"
	local ok=0 p
	for i in $(seq 200); do
		ok=1
		for p in "$p1" "$p2" "$p3"; do
			redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
		done
		[ "$ok" = 1 ] && break
		sleep 0.1
	done
	[ "$ok" = 1 ] || die "the cluster on $p1 $p2 $p3 did not reach cluster_state:ok"

	cat >"$dir/env" <<EOF
FAULTLINE_REDIS_ADDR=127.0.0.1:$single
FAULTLINE_REDIS_CLUSTER_ADDRS=127.0.0.1:$p1,127.0.0.1:$p2,127.0.0.1:$p3
FAULTLINE_REQUIRE_REDIS=1
EOF
	trap - EXIT
	echo "$prog: redis-server on $single, cluster on $p1 $p2 $p3; env in $dir/env"
}

# start_failed STATUS: on a failed start, shows the servers' logs and
# stops whatever did start.
start_failed() {
	[ "$1" -eq 0 ] && return
	local log
	for log in "$dir"/*.log; do
		[ -e "$log" ] || continue
		echo "--- $log (last lines)" >&2
		tail -n 5 "$log" >&2
	done
	stop >/dev/null 2>&1 || true
}

[ $# -eq 2 ] || usage
dir=$2
case $1 in
start) start ;;
stop) stop ;;
*) usage ;;
esac
