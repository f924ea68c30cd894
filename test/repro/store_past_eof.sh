#!/bin/sh
# FUSE_NOTIFY_STORE past the end of a file: the kernel takes the bytes and
# the new end (its page cache holds 10 bytes, RETRIEVE shows them), but it
# marks the size stale (fs/fuse/dev.c fuse_notify_store ->
# fuse_write_update_attr, which invalidates size and times).  So the next
# stat asks the daemon (GETATTR), the size shrinks back to the daemon's,
# and the shrink drops the whole cached page: RETRIEVE then finds nothing
# and a read asks the daemon.  Seen so on Linux 6.18 (the VM has no /bin/sh;
# control_test's notify.store covers stores inside the file on 6.1, 6.12).
#
# usage: [RAMFUSE=path/to/ramfuse] sh store_past_eof.sh    (as root)
# exit: 0 the kernel behaves so, 1 it does not, 77 it cannot run here
set -u
R=${RAMFUSE:-ramfuse}
d=$(mktemp -d) || exit 77
m=$d/mnt
mkdir "$m"
if ! "$R" -o control="$d/ctl",attr_timeout=30,entry_timeout=30,passthrough=off "$m"; then
	rm -rf "$d"
	exit 77
fi
trap 'umount "$m"; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ctl() { "$R" ctl "$m" "$@"; }
count() { ctl stats | sed -n "s/^op.$1 //p"; }

printf abcde > "$m/f"
[ "$(stat -c %s "$m/f")" = 5 ] || fail "size before: $(stat -c %s "$m/f")"
[ "$(ctl notify store /f 0 0123456789)" = 0 ] || fail "the kernel refused STORE"
[ "$(ctl notify retrieve /f 0 100)" = "$(printf '0\n0123456789')" ] ||
	fail "RETRIEVE after STORE: $(ctl notify retrieve /f 0 100)"
getattrs=$(count GETATTR)
[ "$(stat -c %s "$m/f")" = 5 ] || fail "size after STORE: $(stat -c %s "$m/f"), not the daemon's 5"
[ "$(count GETATTR)" -gt "$getattrs" ] || fail "stat did not ask the daemon"
[ "$(ctl notify retrieve /f 0 100)" = 0 ] ||
	fail "the page cache kept: $(ctl notify retrieve /f 0 100)"
reads=$(count READ)
[ "$(cat "$m/f")" = abcde ] || fail "read: $(cat "$m/f")"
[ "$(count READ)" -gt "$reads" ] || fail "the read did not ask the daemon"
echo "ok: STORE past EOF cached 10 bytes; the stale size brought back 5 and dropped the page"
