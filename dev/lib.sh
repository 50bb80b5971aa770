# Shared by dev/setup, dev/start and dev/stop (sourced, not run): where things are, and the
# services a bench needs (MariaDB from the OS, the bench's own two Redis servers).

DEV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DEV_DIR/.." && pwd)
OMS_BENCH=$(realpath -m "${OMS_BENCH:-$HOME/oms-bench}")
CLI=${OMS_BENCH_CLI:-$OMS_BENCH/.bench-cli}           # venv holding the bench CLI (frappe-bench)
export PATH="$CLI/bin:$PATH"                           # bench runs its uv and honcho from there
OMS_DEMO_SITE=${OMS_DEMO_SITE:-oms-demo.localhost}
OMS_TEST_SITE=${OMS_TEST_SITE:-test_site}
OMS_SANDBOX_PORT=${OMS_SANDBOX_PORT:-8701}              # Shopee; Lazada and TikTok Shop on the next two
DB_ROOT_PASSWORD=${OMS_DB_ROOT_PASSWORD:-root}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
T0=${T0:-$(date +%s)}

log() { echo "[dev +$(($(date +%s) - T0))s] $*"; }
die() {
	echo "dev: $*" >&2
	exit 1
}
bench() { (cd "$OMS_BENCH" && "$CLI/bin/bench" "$@"); }

# conf_get FILE KEY: a value of a JSON config file ("" when absent)
conf_get() {
	python3 -c 'import json, sys
try:
    print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))
except FileNotFoundError:
    print("")' "$1" "$2"
}
common_conf() { conf_get "$OMS_BENCH/sites/common_site_config.json" "$1"; }

# port_busy PORT: something accepts connections on 127.0.0.1:PORT
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- MariaDB (the OS package's server, shared by every bench on the machine) ----------------
db_up() { mariadb-admin -uroot -p"$DB_ROOT_PASSWORD" -h127.0.0.1 ping >/dev/null 2>&1; }
db_running() { db_up || $SUDO mariadb-admin ping >/dev/null 2>&1; }
start_mariadb() {
	db_running && return 0
	log "starting MariaDB"
	$SUDO service mariadb start >/dev/null 2>&1 || $SUDO systemctl start mariadb
	for _ in $(seq 1 60); do
		db_running && return 0
		sleep 1
	done
	die "MariaDB did not start"
}

# --- the bench's Redis servers (config/redis_*.conf; `bench start` runs them itself) ---------
redis_confs() { echo "$OMS_BENCH/config/redis_cache.conf $OMS_BENCH/config/redis_queue.conf"; }
conf_port() { awk '$1=="port"{print $2}' "$1"; }
# the data dir of the Redis answering on PORT: this bench's is its config/pids
redis_dir() { redis-cli -h 127.0.0.1 -p "$1" config get dir 2>/dev/null | sed -n 2p; }
redis_is_ours() { [ "$(redis_dir "$1")" = "$OMS_BENCH/config/pids" ]; }

# start_redis: daemonize this bench's Redis servers (for setup steps that need them)
start_redis() {
	local conf port
	for conf in $(redis_confs); do
		port=$(conf_port "$conf")
		if port_busy "$port"; then
			redis_is_ours "$port" && continue
			die "port $port ($(basename "$conf" .conf)) is taken by another program: choose free ports (OMS_REDIS_CACHE_PORT, OMS_REDIS_QUEUE_PORT) and run dev/setup again"
		fi
		(cd "$OMS_BENCH/config" && redis-server "$conf" --daemonize yes >/dev/null)
		for _ in $(seq 1 20); do
			redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
			sleep 0.5
		done
		redis_is_ours "$port" || die "Redis on port $port did not start"
	done
}

# stop_redis: shut down this bench's Redis servers, and only those
stop_redis() {
	local conf port
	for conf in $(redis_confs); do
		[ -f "$conf" ] || continue
		port=$(conf_port "$conf")
		if redis_is_ours "$port"; then
			# the queue's Redis saves its jobs as its config says; one that cannot save still stops
			redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 ||
				redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
			for _ in $(seq 1 20); do
				port_busy "$port" || break
				sleep 0.5
			done
		fi
	done
}
