#!/usr/bin/env bash
# Benchmarks `e2b-artifacts fetch` against its baselines, each case in one
# hyperfine run so that every side sees the same machine state. "today" is the
# build of commit $TODAY_COMMIT, built once into bench/.cache/ (the start-up
# issue's starting point), so that "x today" is measured in the same run:
#   noop                fetch of an up-to-date file        vs `node -e 0` (<= 1.55x) and today;
#                       also with an e2b-artifacts.lock pinning it ("locked", <= 1.55x)
#   cold-small          2 MB busybox, 50 ms per response   vs today (<= 0.80x) and bench/baseline/fetch-busybox.sh (<= 1.5x)
#   cold-small-nodelay  2 MB busybox, no delay             vs today (<= 0.70x)
#   cold-large          512 MB ELF artifact, peak RSS too  vs today (time and RSS <= 1.10x) and fetch-busybox.sh (<= 0.9x, RSS <= 150 MB)
# Every command runs with NODE_EXTRA_CA_CERTS unset (env.txt records it).
# Prints a table of medians and ratios on stdout (hyperfine's own report goes
# to stderr) and keeps the raw JSON under bench/results/. See bench/README.md.
#
# usage: bash bench/fetch.sh [noop|cold-small|cold-small-nodelay|cold-large|all]
# Run counts: NOOP_RUNS (40), SMALL_RUNS (30), LARGE_RUNS (5), RSS_RUNS (3);
# REPEATS (5) hyperfine invocations per case, NOOP_REPEATS (9) for the no-op cases,
# LARGE_REPEATS (2) for cold-large,
# in alternating order.
set -euo pipefail

# Node parses the whole bundle NODE_EXTRA_CA_CERTS names before any JavaScript
# runs (about 38 ms for a system bundle), for every side alike: that hides
# start-up costs. It is recorded in env.txt, then unset for every run.
extra_ca_certs=${NODE_EXTRA_CA_CERTS-<unset>}
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS NODE_DEBUG

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# Command lines are built as strings for hyperfine and split on spaces.
[[ $repo != *[[:space:]]* ]] || { echo "bench/fetch.sh: the repository path must not contain spaces: $repo" >&2; exit 1; }

which_case=${1:-all}
case $which_case in
  noop | cold-small | cold-small-nodelay | cold-large) cases=("$which_case") ;;
  all) cases=(noop cold-small cold-small-nodelay cold-large) ;;
  *)
    echo "usage: bash bench/fetch.sh [noop|cold-small|cold-small-nodelay|cold-large|all]" >&2
    exit 2
    ;;
esac

NOOP_RUNS=${NOOP_RUNS:-40}
REPEATS=${REPEATS:-5}
# A no-op is a few milliseconds of work on top of Node's start, and one
# invocation's ratio against node -e 0 moves by 0.3x or more on a shared
# machine; the median of more of them is steadier. Each is about 8 s.
NOOP_REPEATS=${NOOP_REPEATS:-9}
LARGE_REPEATS=${LARGE_REPEATS:-2}
SMALL_RUNS=${SMALL_RUNS:-30}
LARGE_RUNS=${LARGE_RUNS:-5}
RSS_RUNS=${RSS_RUNS:-3}

# The fixture is Debian's busybox-static 1.35.0: the up-to-date check wants
# the requested version in its banner, so the benchmark asks for that version.
SMALL_VERSION=1.35.0
LARGE_VERSION=v0.0.0-bench512m
LARGE_BYTES=$((512 * 1024 * 1024))
BUCKET=bench-bucket
ARCH=amd64

# The commit the start-up issue started from: "today's build".
TODAY_COMMIT=14ba606

cache="$repo/bench/.cache"
tree="$cache/tree"
fixture="$repo/test/fixtures/busybox/amd64/busybox"
today="$cache/today-$TODAY_COMMIT"

die() {
  echo "bench/fetch.sh: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

# --- prerequisites -----------------------------------------------------------

command -v hyperfine >/dev/null || die "hyperfine is not installed: apt-get install -y hyperfine"
command -v curl >/dev/null || die "curl is not installed (the baseline needs it): apt-get install -y curl"
command -v sha256sum >/dev/null || die "sha256sum is not installed: apt-get install -y coreutils"
if [[ " ${cases[*]} " == *" cold-large "* ]] && [ ! -x /usr/bin/time ]; then
  die "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install -y time"
fi

if [ ! -f dist/fast-path.bundle.cjs ] || [ ! -f oclif.manifest.json ]; then
  log "dist/ is missing: npm run build"
  npm run build >&2
elif [ -n "$(find src scripts -newer dist/fast-path.bundle.cjs -print -quit)" ]; then
  echo "warning: src/ or scripts/ has changes newer than dist/; run npm run build to benchmark them" >&2
fi

if [ ! -x "$fixture" ]; then
  log "busybox fixture missing: bash test/fixtures/get-busybox.sh"
  bash test/fixtures/get-busybox.sh >&2
fi

# Today's build, from `git archive` of $TODAY_COMMIT with its own `npm ci`, made
# once and reused by every later run (delete the directory to make it again).
if [ ! -f "$today/.built" ]; then
  log "building today's build (commit $TODAY_COMMIT) into $today, once"
  rm -rf "$today"
  mkdir -p "$today"
  git archive "$TODAY_COMMIT" | tar -x -C "$today"
  (cd "$today" && npm ci --no-audit --no-fund --loglevel=error && npm run build) >&2
  touch "$today/.built"
fi

# --- the served tree: /{bucket}/busybox/... and /{bucket}/firecrackers/... ---

write_sidecar() { # file: writes file.sha256 in sha256sum format, named for the file
  local file=$1 digest
  digest=$(sha256sum <"$file" | cut -d' ' -f1)
  printf '%s  %s\n' "$digest" "$(basename "$file")" >"$file.sha256"
}

prepare_small() {
  local dir="$tree/busybox/$SMALL_VERSION/$ARCH"
  mkdir -p "$dir"
  cp "$fixture" "$dir/busybox"
  write_sidecar "$dir/busybox"
}

# Generated once and cached: a real x86-64 ELF header (fetch checks the
# machine field) followed by random bytes, so nothing compresses or dedups.
prepare_large() {
  local dir="$tree/firecrackers/$LARGE_VERSION/$ARCH"
  local file="$dir/firecracker"
  if [ -f "$file" ] && [ -f "$file.sha256" ] && [ "$(stat -c %s "$file")" = "$LARGE_BYTES" ]; then
    return
  fi
  log "generating the 512 MB artifact in $dir (once)"
  mkdir -p "$dir"
  rm -f "$file" "$file.sha256"
  head -c 64 "$fixture" >"$file.part"
  head -c $((LARGE_BYTES - 64)) /dev/urandom >>"$file.part"
  mv "$file.part" "$file"
  write_sidecar "$file"
}

# --- work dir and server lifecycle -------------------------------------------

mkdir -p "$cache"
# Outputs and the baseline's temp files live on the repo's disk, as
# `.busybox/` does for real; the baseline's `mv` is then a rename, like ours.
work=$(mktemp -d "$cache/run.XXXXXX")
server_pid=
# The tool's V8 code cache (bin/run.js) starts empty in every benchmark; the
# first warm-up run of each case writes it, as a user's first `make` does.
export XDG_CACHE_HOME="$work/xdg-cache"

stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # delay_ms: sets server_url
  local out="$work/server.out"
  stop_server
  node --import tsx test/support/artifact-server.ts --root "$tree" --prefix "/$BUCKET" --delay-ms "$1" >"$out" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    if grep -q '^listening ' "$out"; then
      server_url="$(sed -n 's/^listening //p;T;q' "$out")/$BUCKET"
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || die "artifact server exited: $(cat "$out")"
    sleep 0.05
  done
  die "artifact server did not start within 10 s"
}

# The runs use a copy of the build, so that a rebuild of dist/ elsewhere (it
# starts with rm -rf dist) cannot fail or mix builds mid-benchmark. Modules
# still resolve from the repository's node_modules, a parent directory.
app="$work/app"
mkdir -p "$app"
cp -r bin dist oclif.manifest.json package.json "$app/"
[ -f "$app/dist/up-to-date.bundle.cjs" ] && [ -f "$app/dist/fast-path.bundle.cjs" ] && [ -f "$app/dist/undici-lite.bundle.cjs" ] && [ -f "$app/dist/commands/fetch.js" ] ||
  die "dist/ is incomplete (is a rebuild running?): run npm run build and retry"

results="$repo/bench/results/fetch-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
{
  echo "date: $(date -Is)"
  echo "node: $(node --version)"
  echo "hyperfine: $(hyperfine --version)"
  echo "cpus: $(nproc)"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "today: $TODAY_COMMIT"
  echo "NODE_EXTRA_CA_CERTS: $extra_ca_certs (unset for every run)"
} >"$results/env.txt"
log "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cpus"

check_same() { # served fetched...: a benchmark of a broken fetch is worthless
  local served=$1 fetched
  shift
  for fetched in "$@"; do
    cmp -s "$served" "$fetched" || die "$fetched differs from $served"
  done
}

# hyperfine hides the commands' output; the cold cases append their stderr to
# $results/{case}.stderr, shown here when a run fails.
run_hyperfine() { # case-repeat hyperfine-args...
  local name=$1 errors="$results/${1%-[0-9]*}.stderr"
  shift
  if ! hyperfine --style basic --export-json "$results/$name.json" "$@" >&2; then
    [ -s "$errors" ] && tail -n 20 "$errors" >&2
    die "$name: a benchmarked command failed; its stderr is in $errors"
  fi
}

# Runs a case `repeats` times, each time one hyperfine invocation over all its
# commands ({case}-N.json). hyperfine runs one command's runs after the other's,
# so even repeats reverse the order: a machine that gets busier or quieter
# during a run then favours no side. The summary takes the median ratio.
# Callers list the commands so that each pair a target judges runs back to
# back in both orders (the tool in the middle of three, or next to `node -e
# 0`), not with a third command's runs between them.
repeat_hyperfine() { # case repeats options-array-name command-array-name...
  local name=$1 repeats=$2 options=$3 r group
  shift 3
  local groups=("$@") order args
  for r in $(seq "$repeats"); do
    order=("${groups[@]}")
    if ((r % 2 == 0)); then
      mapfile -t order < <(printf '%s\n' "${groups[@]}" | tac)
    fi
    eval 'args=("${'"$options"'[@]}")'
    for group in "${order[@]}"; do
      eval 'args+=("${'"$group"'[@]}")'
    done
    run_hyperfine "$name-$r" "${args[@]}"
  done
}

tool_fetch() { # artifact version out: the CLI command line
  echo "node $app/bin/run.js fetch $1 --version $2 --arch $ARCH --from $server_url --out $3"
}

today_fetch() { # artifact version out: the same command line, today's build
  echo "node $today/bin/run.js fetch $1 --version $2 --arch $ARCH --from $server_url --out $3"
}

# --- cases -------------------------------------------------------------------

bench_noop() {
  prepare_small
  start_server 0
  local out="$work/noop/busybox"
  $(tool_fetch busybox "$SMALL_VERSION" "$out") --quiet
  stop_server # up to date means no network: nothing may need the server now
  log "noop: up-to-date fetch vs node -e 0 and today ($NOOP_REPEATS x $NOOP_RUNS runs)"
  local opts=(-N --warmup 5 --runs "$NOOP_RUNS")
  local cmd_tool=(-n tool "$(tool_fetch busybox "$SMALL_VERSION" "$out")")
  local cmd_today=(-n today "$(today_fetch busybox "$SMALL_VERSION" "$out")")
  local cmd_node=(-n node "node -e 0")
  # The same fetch in a repository whose e2b-artifacts.lock pins the file: the
  # lock is found by looking upward from the working directory, as in a Makefile.
  # hyperfine runs there, without a shell, as in the case above (a shell per run
  # only adds its own noise to both sides).
  local repo_dir="$work/locked-repo"
  write_lock "$repo_dir" "$fixture"
  local cmd_locked=(-n locked "$(tool_fetch busybox "$SMALL_VERSION" "$out") --locked")
  (cd "$repo_dir" && $(tool_fetch busybox "$SMALL_VERSION" "$out") --locked --quiet) || die "noop: the locked fetch failed"
  repeat_hyperfine noop "$NOOP_REPEATS" opts cmd_tool cmd_node cmd_today
  log "noop-locked: the up-to-date fetch with a lock vs without, in the lock's directory ($NOOP_REPEATS x $NOOP_RUNS runs)"
  local cmd_plain=(-n tool "$(tool_fetch busybox "$SMALL_VERSION" "$out") --no-lock")
  (cd "$repo_dir" && repeat_hyperfine noop-locked "$NOOP_REPEATS" opts cmd_locked cmd_node cmd_plain)
}

write_lock() { # dir file: dir/e2b-artifacts.lock pinning file as busybox $SMALL_VERSION/$ARCH
  local dir=$1 file=$2 digest size
  mkdir -p "$dir"
  digest=$(sha256sum <"$file" | cut -d' ' -f1)
  size=$(stat -c %s "$file")
  cat >"$dir/e2b-artifacts.lock" <<JSON
{
  "entries": [
    {
      "arch": "$ARCH",
      "artifact": "busybox",
      "file": "busybox",
      "lockedAt": "2026-11-29T00:00:00.000Z",
      "sha256": "$digest",
      "size": $size,
      "source": "github:e2b-dev/fc-busybox@v$SMALL_VERSION",
      "version": "$SMALL_VERSION"
    }
  ],
  "lockfileVersion": 1
}
JSON
}

bench_small() { # case delay_ms: the 2 MB busybox, every run downloading
  local name=$1 delay=$2
  prepare_small
  start_server "$delay"
  log "$name: 2 MB busybox, $delay ms per response ($REPEATS x $SMALL_RUNS runs)"
  local errors="2>>'$results/$name.stderr'"
  local opts=(--warmup 3 --runs "$SMALL_RUNS")
  local cmd_tool=(--prepare "rm -rf '$work/tool'" -n tool "$(tool_fetch busybox "$SMALL_VERSION" "$work/tool/busybox") $errors")
  local cmd_today=(--prepare "rm -rf '$work/today'" -n today "$(today_fetch busybox "$SMALL_VERSION" "$work/today/busybox") $errors")
  local cmd_script=(--prepare "rm -rf '$work/baseline'" -n script
    "TMPDIR='$work' BUSYBOX_BASE_URL='$server_url/busybox' bash '$repo/bench/baseline/fetch-busybox.sh' $SMALL_VERSION $ARCH '$work/baseline/busybox' $errors")
  repeat_hyperfine "$name" "$REPEATS" opts cmd_today cmd_tool cmd_script
  check_same "$fixture" "$work/tool/busybox" "$work/today/busybox" "$work/baseline/busybox"
}

bench_cold_large() {
  prepare_large
  start_server 0
  local tool_cmd today_cmd baseline_cmd
  tool_cmd=$(tool_fetch firecracker "$LARGE_VERSION" "$work/tool/firecracker")
  today_cmd=$(today_fetch firecracker "$LARGE_VERSION" "$work/today/firecracker")
  baseline_cmd="TMPDIR='$work' BUSYBOX_BASE_URL='$server_url/firecrackers' ARTIFACT_FILE=firecracker bash '$repo/bench/baseline/fetch-busybox.sh' $LARGE_VERSION $ARCH '$work/baseline/firecracker'"
  # sync: no run pays for an earlier run's dirty pages as background writeback.
  local reset="rm -rf '$work/tool' '$work/today' '$work/baseline' && sync"
  log "cold-large: 512 MB artifact ($LARGE_REPEATS x $LARGE_RUNS runs)"
  local errors="2>>'$results/cold-large.stderr'"
  local opts=(--warmup 1 --runs "$LARGE_RUNS")
  local cmd_tool=(--prepare "rm -rf '$work/tool' && sync" -n tool "$tool_cmd $errors")
  local cmd_today=(--prepare "rm -rf '$work/today' && sync" -n today "$today_cmd $errors")
  local cmd_script=(--prepare "rm -rf '$work/baseline' && sync" -n script "$baseline_cmd $errors")
  repeat_hyperfine cold-large "$LARGE_REPEATS" opts cmd_today cmd_tool cmd_script
  check_same "$tree/firecrackers/$LARGE_VERSION/$ARCH/firecracker" "$work/tool/firecracker" "$work/today/firecracker" "$work/baseline/firecracker"

  log "cold-large: peak RSS ($RSS_RUNS runs each)"
  local tool_rss=() today_rss=() baseline_rss=()
  for _ in $(seq "$RSS_RUNS"); do
    bash -c "$reset"
    /usr/bin/time -f %M -o "$work/rss" bash -c "$tool_cmd --quiet"
    tool_rss+=("$(tail -n 1 "$work/rss")")
    bash -c "$reset"
    /usr/bin/time -f %M -o "$work/rss" bash -c "$today_cmd --quiet"
    today_rss+=("$(tail -n 1 "$work/rss")")
    bash -c "$reset"
    /usr/bin/time -f %M -o "$work/rss" bash -c "$baseline_cmd >/dev/null"
    baseline_rss+=("$(tail -n 1 "$work/rss")")
  done
  local IFS=,
  printf '{"unit":"KiB","tool":[%s],"today":[%s],"script":[%s]}\n' "${tool_rss[*]}" "${today_rss[*]}" "${baseline_rss[*]}" >"$results/cold-large-rss.json"
}

for c in "${cases[@]}"; do
  case $c in
    noop) bench_noop ;;
    cold-small) bench_small cold-small 50 ;;
    cold-small-nodelay) bench_small cold-small-nodelay 0 ;;
    cold-large) bench_cold_large ;;
  esac
  stop_server
done

echo
node --import tsx bench/summarize.ts "$results"
