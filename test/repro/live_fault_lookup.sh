#!/bin/sh
# A LOOKUP answered with a file type that is none (mode 0170000) is refused
# by the kernel with EIO (fs/fuse/dir.c, fuse_lookup_name: fuse_valid_type),
# and nothing of it stays cached: once the fault is gone the name works.
# With entry_timeout=0 every open revalidates the name with a LOOKUP; the
# fault (after=2) takes the second on.  The kernel then asks twice: the
# revalidation finds the entry invalid (fuse_dentry_revalidate) and drops
# it, and the fresh lookup that follows gets the bad type too: hits=2.
#
# usage: [RAMFUSE=path/to/ramfuse] sh live_fault_lookup.sh    (as root)
# exit: 0 the kernel behaves so, 1 it does not, 77 it cannot run here
set -u
R=${RAMFUSE:-ramfuse}
d=$(mktemp -d) || exit 77
m=$d/mnt
mkdir "$m"
if ! "$R" -o control="$d/ctl",entry_timeout=0 "$m"; then
	rm -rf "$d"
	exit 77
fi
trap 'umount "$m"; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ctl() { "$R" ctl "$m" "$@"; }

echo data > "$m/x"
id=$(ctl fault add LOOKUP:set=attr.mode=0170000:name=x:after=2) || fail "fault add"
[ "$(cat "$m/x")" = data ] || fail "the first LOOKUP was edited"
if cat "$m/x" 2>/dev/null; then fail "a LOOKUP with mode 0170000 was taken"; fi
ctl fault list | grep -q "^$id LOOKUP:set=attr.mode=0170000:name=x:after=2 hits=2$" ||
	fail "fault list: $(ctl fault list)"
ctl fault del "$id" || fail "fault del"
[ "$(cat "$m/x")" = data ] || fail "the name stayed broken"
echo "ok: EIO for a LOOKUP of no file type, nothing cached from it"
