#!/bin/bash
#  fresh-check.sh - run the README's two commands on a fresh Debian
#  bookworm machine: a minimal root (mmdebstrap --variant=minbase, with
#  only ca-certificates and make) in which nobody has run apt-get yet.
#
#    sudo tools/fresh-check.sh            both: make test, then make run
#    sudo tools/fresh-check.sh test       make test (with CI=true, as CI)
#    sudo tools/fresh-check.sh run        make run, until /healthz answers
#
#  What it guards against: a build or test dependency that the developer's
#  machine has and tools/install-deps.sh does not install, a Makefile
#  target that needs more than it installs, a script that needs a tool the
#  fresh machine lacks. It takes the committed HEAD (git archive), as a
#  clone would: commit first.
#
#  Each command runs in a throwaway overlay over a cached root
#  ($FRESH_CACHE, default /var/tmp/tscache-fresh-check; delete it to start
#  from a new Debian snapshot), chrooted, with a clean environment and
#  this machine's network and apt sources. `make run` passes when
#  http://127.0.0.1:$PORT/healthz answers 200 and the pipeline is still
#  up 10 s later; it needs that port (TSCACHE_GATEWAY_HTTP_PORT, default
#  8080) and the demo's others free on this machine. Logs go to
#  $FRESH_CACHE/last-{test,run}.log. Exit status: 0 if every command
#  passed, 1 otherwise, 2 on a setup error. Needs root (chroot, mounts).
set -u
cd "$(dirname "$0")/.."
what=${1:-both}
case $what in test|run|both) ;; *) sed -n '2,9p' "$0"; exit 2 ;; esac
CACHE=${FRESH_CACHE:-/var/tmp/tscache-fresh-check}
ROOTFS=$CACHE/rootfs
PORT=${TSCACHE_GATEWAY_HTTP_PORT:-8080}
TEST_LIMIT_S=${FRESH_TEST_LIMIT_S:-3600}
RUN_LIMIT_S=${FRESH_RUN_LIMIT_S:-900}

die () { echo "fresh-check: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (chroot and mounts)"
git rev-parse --verify -q HEAD >/dev/null || die "not a git checkout"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
    echo "fresh-check: uncommitted changes are not checked (HEAD is)" >&2

#  The host's apt sources, deb822 or one-line style, for mmdebstrap.
sources () {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
        [ -s "$f" ] && { echo "$f"; return; }
    done
}

build_rootfs () {
    command -v mmdebstrap >/dev/null || {
        apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; } ||
        die "cannot install mmdebstrap"
    local src
    src=$(sources) || die "no apt sources on this machine"
    mkdir -p "$CACHE"
    rm -rf --one-file-system "$ROOTFS.new"
    echo "fresh-check: building a minimal bookworm root in $ROOTFS"
    mmdebstrap --mode=root --variant=minbase --include=ca-certificates,make \
        bookworm "$ROOTFS.new" "$src" >"$CACHE/rootfs.log" 2>&1 ||
        { tail -20 "$CACHE/rootfs.log"; die "mmdebstrap failed"; }
    #  As on a machine where apt-get update never ran.
    rm -rf "$ROOTFS.new"/var/lib/apt/lists/* "$ROOTFS.new"/var/cache/apt/*.bin
    mv "$ROOTFS.new" "$ROOTFS"
}
[ -x "$ROOTFS/usr/bin/make" ] || build_rootfs

#  Runs COMMAND in a fresh overlay; with a URL, passes when the URL
#  answers while COMMAND keeps running. Returns 0 on a pass.
fresh_run () {    # fresh_run NAME LIMIT_S COMMAND [URL]
    local name=$1 limit=$2 command=$3 url=${4:-}
    local dir root log rc=1 t0=$SECONDS
    dir=$(mktemp -d "$CACHE/run.XXXXXX")
    root=$dir/root
    log=$CACHE/last-$name.log
    mkdir -p "$dir/upper" "$dir/work" "$root"
    mount -t overlay overlay \
        -o "lowerdir=$ROOTFS,upperdir=$dir/upper,workdir=$dir/work" "$root" ||
        { rm -rf "$dir"; die "cannot mount an overlay in $CACHE"; }
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    mkdir -p "$root/srv/tscache"
    git archive --format=tar HEAD | tar -x -C "$root/srv/tscache"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
    mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
    echo "fresh-check: $command (log: $log)"
    timeout -k 10 "$limit" chroot "$root" /usr/bin/env -i HOME=/root \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive CI=true \
        /bin/bash -c "cd /srv/tscache && $command" </dev/null >"$log" 2>&1 &
    local pid=$!
    if [ -z "$url" ]; then
        wait $pid && rc=0
    else
        while kill -0 $pid 2>/dev/null; do
            if curl -fs -o /dev/null -m 2 "$url" 2>/dev/null; then
                sleep 10
                kill -0 $pid 2>/dev/null && rc=0
                break
            fi
            sleep 1
        done
        [ $rc = 0 ] || echo "fresh-check: $url never answered, or the pipeline stopped" >>"$log"
    fi
    #  Stop whatever still runs inside this root, then clean up.
    local sig p
    for sig in TERM KILL; do
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
                kill -s $sig "${p#/proc/}" 2>/dev/null
        done
        sleep 1
    done
    wait $pid 2>/dev/null
    umount -R "$root/dev" "$root/sys" "$root/proc" 2>/dev/null
    umount "$root" 2>/dev/null || umount -l "$root"
    rm -rf --one-file-system "$dir"
    tail -n 3 "$log"
    echo "fresh-check: $command: $([ $rc = 0 ] && echo passed || echo FAILED) after $((SECONDS - t0)) s"
    return $rc
}

status=0
if [ "$what" != run ]; then
    fresh_run test "$TEST_LIMIT_S" "make test" || status=1
fi
if [ "$what" != test ]; then
    command -v curl >/dev/null || die "needs curl on this machine"
    fresh_run run "$RUN_LIMIT_S" "make run" "http://127.0.0.1:$PORT/healthz" ||
        status=1
fi
exit $status
