# shellcheck shell=bash
# Shell functions shared by the bench scripts; sourced, not run:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# bench_root is the checkout. Every function reports progress on stderr under the
# name in bench_name (set it before calling them).

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_name=${bench_name:-bench}

# bench_build BUILD_DIR TARGET...: installs missing build dependencies, then builds the
# targets in Release mode (JOBS jobs, default one per CPU).
bench_build() {
  local build=$1
  shift
  if [ -x "$bench_root/scripts/install-deps" ]; then
    "$bench_root/scripts/install-deps"
  fi
  echo "$bench_name: building (Release) in $build" >&2
  cmake -S "$bench_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "$@" >/dev/null
}

# bench_use_broker [amqp]: keeps the broker named by RABBITMQ_MANAGEMENT_URL (and, with
# `amqp`, RABBITMQ_URL too) if set; else starts a private one with
# scripts/local-broker, whose directory is then in bench_broker_dir. Exports both URLs.
# Call bench_stop_broker on exit.
bench_broker_dir=""
bench_use_broker() {
  if [ -z "${RABBITMQ_MANAGEMENT_URL:-}" ] || { [ "${1:-}" = amqp ] && [ -z "${RABBITMQ_URL:-}" ]; }; then
    bench_broker_dir=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench-broker.XXXXXX")
    echo "$bench_name: starting a private broker" >&2
    "$bench_root/scripts/local-broker" start "$bench_broker_dir"
    set -a
    # shellcheck disable=SC1091
    . "$bench_broker_dir/env"
    set +a
  fi
  export RABBITMQ_MANAGEMENT_URL
  if [ -n "${RABBITMQ_URL:-}" ]; then
    export RABBITMQ_URL
  fi
}
bench_stop_broker() {
  if [ -n "$bench_broker_dir" ]; then
    "$bench_root/scripts/local-broker" stop "$bench_broker_dir" || true
    rm -rf "$bench_broker_dir"
    bench_broker_dir=""
  fi
}

# bench_api METHOD PATH [curl args...]: a management API request as RABBITMQ_USER.
bench_api() {
  local method=$1 path=$2
  shift 2
  curl -s -u "${RABBITMQ_USER:-guest}:${RABBITMQ_PASSWORD:-guest}" -X "$method" \
    "$RABBITMQ_MANAGEMENT_URL/api$path" "$@"
}

# bench_field NAME JSON: one value out of a one-line JSON object (warren_loadgen's).
bench_field() { sed -E "s/.*\"$1\":([^,}]*).*/\1/" <<<"$2"; }

# bench_about: the lines of a report that say when, where and on what it was measured
# (date, machine and its load, git revision, broker).
bench_about() {
  local revision cpu version
  revision=$(git -C "$bench_root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
  # The results being written are not a change to what was measured.
  if [ -n "$(git -C "$bench_root" status --porcelain -- . ':!bench/results' 2>/dev/null | head -n 1)" ]; then
    revision="$revision (with uncommitted changes)"
  fi
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- git revision: $revision"
  if [ -n "${RABBITMQ_MANAGEMENT_URL:-}" ]; then
    version=$(bench_api GET /overview | sed -nE 's/.*"rabbitmq_version":"([^"]*)".*/\1/p')
    echo "- broker: RabbitMQ ${version:-unknown}$([ -n "$bench_broker_dir" ] && echo ", private node on loopback")"
  fi
}
