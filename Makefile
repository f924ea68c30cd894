# ramfuse — build with musl, static, small.
#   make            build/ramfuse and the test binaries
#   make check      run the test suite on this machine (root, /dev/fuse)
#   make vm-check   run the suite in QEMU on Debian's 6.12 and 6.1 kernels
#   make vm-selftest  the QEMU runner's own tests
#   make check-uring  the suite again, every mount over FUSE-over-io_uring
#   make check-long the differential test with many seeds
#   make lint       the same sources through clang -Wall -Wextra -Werror
#   make size       what each module costs in build/ramfuse
#   make kselftest-compat  the tests against the kernel's kselftest harness,
#                   kernel selftests against ours (scripts/kselftest-compat)
#   make fuzz-archive  the populate= readers' fuzzer (same FUZZ_SECONDS)
#   make fuzz       the request fuzzer (clang libFuzzer, glibc) for
#                   FUZZ_SECONDS (60); findings in build-fuzz/crashes/
#   make one-test SRC=x_test.c OUT=bin  one test file against harness.h and fuse_raw.h
#   make check SANITIZE=1  the suite with the daemon and tests built with
#                   glibc + ASan/UBSan (in build-san/); any report fails it

CC      ?= musl-gcc
ifeq ($(origin CC),default)
CC      := musl-gcc
endif
CLANG   ?= clang
MUSL_INC ?= /usr/include/x86_64-linux-musl
CFLAGS  ?= -Os
PREFIX  ?= /usr/local
SBINDIR ?= /sbin

ifeq ($(SANITIZE),1)
# glibc, dynamic: the sanitizers' runtimes need both.  A report aborts.
# clang: GCC's separate libubsan ignores log_path, so a daemon's UBSan
# report went to a stderr nobody reads.
B       := build-san
CC      := $(CLANG)
SAN     := -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS  := -O1 $(SAN)
LDFLAGS := $(SAN)
else
B       := build
# -z norelro: musl's static start-up never applies RELRO (the range stays
# writable; see /proc/PID/maps), so its page alignment bought nothing.
# -z noseparate-code: read-only data shares the code's pages.  In a static
# non-PIE binary all code is at fixed addresses already; the few gadgets
# this adds do not change what an attacker has.  Together: 11 KiB.
LDFLAGS += -static -s -Wl,--gc-sections -Wl,-z,norelro,-z,noseparate-code
endif
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wvla -Wshadow -Wstrict-prototypes \
           -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
           -fno-stack-protector -D_GNU_SOURCE -pthread
LDFLAGS += -pthread $(EXTRA_LDFLAGS)
SRCS := $(sort $(wildcard src/*.c))
OBJS := $(SRCS:src/%.c=$(B)/obj/%.o)
TEST_SRCS := $(sort $(wildcard test/*_test.c))
TEST_BINS := $(TEST_SRCS:test/%.c=$(B)/test/%)
# reproducers of kernel bugs (test/repro/) run with the suite as repro_*
REPRO_SRCS := $(sort $(wildcard test/repro/*_test.c))
REPRO_BINS := $(REPRO_SRCS:test/repro/%.c=$(B)/test/repro_%)
RUNNER_SRCS := test/runner.c test/junit.c
TEST_LIB  := $(filter-out $(TEST_SRCS) $(RUNNER_SRCS),$(sort $(wildcard test/*.c)))
TEST_HDRS := $(wildcard test/*.h)

all: $(B)/ramfuse tests
	@printf 'build/ramfuse: %s bytes\n' $$(stat -c %s $(B)/ramfuse)

# V=1 shows the commands
Q := $(if $(V),,@)

$(B)/ramfuse: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS)

$(B)/obj/%.o: src/%.c $(wildcard src/*.h) | $(B)/obj
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# run-tests runs every *_test in build/test: a binary whose source is gone
# (a test file renamed or split) must not run against today's daemon
STALE_BINS := $(filter-out $(TEST_BINS) $(REPRO_BINS) $(B)/test/readme_example_test,\
                           $(wildcard $(B)/test/*_test))

tests: $(TEST_BINS) $(REPRO_BINS) $(B)/test/readme_example_test $(B)/test/run-tests \
	$(B)/test/metabench
	$(if $(STALE_BINS),@echo "  RM      $(STALE_BINS)"; rm -f $(STALE_BINS))

$(B)/test/%: test/%.c $(TEST_LIB) $(TEST_HDRS) | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itest -Isrc $(LDFLAGS) -o $@ $< $(TEST_LIB)

$(B)/test/repro_%: test/repro/%.c $(TEST_LIB) $(TEST_HDRS) | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itest -Isrc $(LDFLAGS) -o $@ $< $(TEST_LIB)

# the README's fuse_raw example (the indented block after the line
# "<!-- example: fuse_raw -->") runs with the suite, so it cannot rot
$(B)/readme_example.c: README.md | $(B)/test
	$(Q)sed -n '/^<!-- example: fuse_raw -->$$/,/^<!-- end -->$$/{/^$$/p;s/^    //p;}' $< >$@
	$(Q)grep -q TEST_HARNESS_MAIN $@ || { echo "README.md: no fuse_raw example" >&2; rm -f $@; exit 1; }

$(B)/test/readme_example_test: $(B)/readme_example.c $(TEST_LIB) $(TEST_HDRS) | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itest -Isrc $(LDFLAGS) -o $@ $< $(TEST_LIB)

# any one test file, e.g. a reproducer kept elsewhere (vm/run --test uses it):
#   make one-test SRC=path/x_test.c OUT=path/x_test
one-test:
	@test -n "$(SRC)" && test -n "$(OUT)" || { echo "make one-test: give SRC=FILE.c and OUT=BINARY" >&2; exit 2; }
	@mkdir -p $(dir $(OUT))
	$(Q)$(CC) $(CFLAGS) -Itest -Isrc $(LDFLAGS) -o $(OUT) $(SRC) $(TEST_LIB)

# scripts/bench's metadata load (not a test: run-tests runs *_test only)
$(B)/test/metabench: test/bench/metabench.c | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/test/run-tests: $(RUNNER_SRCS) test/junit.h | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(RUNNER_SRCS)

$(B)/obj $(B)/test:
	mkdir -p $@

ifeq ($(SANITIZE),1)
# Every process writes its reports to $(SAN_LOG)/{asan,ubsan}.PID; a test
# whose daemon left one fails (test/fuse_util.c), and so does the run if
# any process at all left one.
SAN_LOG := $(abspath $(B))/reports
check: all
	$(Q)rm -rf $(SAN_LOG) && mkdir -p $(SAN_LOG)
	$(Q)s=0; RAMFUSE_SAN_LOG=$(SAN_LOG) TEST_TIMEOUT_MULT=$${TEST_TIMEOUT_MULT:-4} \
	ASAN_OPTIONS=abort_on_error=1:halt_on_error=1:detect_leaks=1:log_path=$(SAN_LOG)/asan \
	UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOG)/ubsan \
		$(B)/test/run-tests $(B)/test || s=1; \
	for f in $(SAN_LOG)/*; do [ -e "$$f" ] || continue; \
		echo "sanitizer report $$f:"; cat "$$f"; s=1; done; \
	[ $$s = 0 ] && echo "sanitizers: no reports" || { echo "sanitizers: FAILED"; exit 1; }
else
check: all
	$(B)/test/run-tests $(B)/test
endif

# every mount with uring=on, the kernel's enable_uring on for the run only
check-uring: all
	RAMFUSE_EXTRA_OPTS=uring=on scripts/with-uring $(B)/test/run-tests $(B)/test

# the differential test with many more seeds (minutes)
check-long: all
	DIFF_ROUNDS=200 DIFF_STEPS=3000 TEST_TIMEOUT_MULT=10 $(B)/test/diff_test

lint:
	@for f in $(SRCS) $(TEST_SRCS) $(REPRO_SRCS) $(TEST_LIB) $(RUNNER_SRCS) vm/init.c vm/selftest-standin.c; do \
		$(CLANG) -fsyntax-only -nostdinc -isystem $(MUSL_INC) \
			-isystem $$($(CLANG) -print-resource-dir)/include \
			-std=gnu11 -Wall -Wextra -Werror -Wvla -D_GNU_SOURCE -Isrc -Itest $$f || exit 1; \
	done; echo "lint: clang clean"

# what each module costs in build/ramfuse (scripts/size): the same link,
# with a map and without -s
size: $(B)/ramfuse
	$(Q)$(CC) $(filter-out -s,$(LDFLAGS)) -Wl,-Map=$(B)/ramfuse.map -o $(B)/ramfuse.sym $(OBJS)
	$(Q)scripts/size $(B)/ramfuse.map $(B)/ramfuse

# the harness both ways: the suite built against the kernel's
# kselftest_harness.h, kernel selftests against test/harness.h (needs
# linux-source-6.12); KSELFTEST_RUN=1 also runs both and compares
kselftest-compat: all
	scripts/kselftest-compat $(if $(KSELFTEST_RUN),--run)
# The fuzzer: libFuzzer with ASan and UBSan, glibc, host only.  The seed
# corpus is generated (test/fuzz/seeds.c); what the fuzzer learns stays in
# build-fuzz/corpus between runs.
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FB := build-fuzz
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wvla -D_GNU_SOURCE -pthread \
               -fno-omit-frame-pointer -fno-sanitize-recover=all -Isrc -Itest/fuzz
FUZZ_SRCS := $(filter-out src/main.c,$(SRCS))

$(FB)/fuzz: test/fuzz/fuzz.c test/fuzz/fuzz.h $(FUZZ_SRCS) $(wildcard src/*.h)
	@mkdir -p $(FB)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ \
		test/fuzz/fuzz.c $(FUZZ_SRCS)

$(FB)/seeds: test/fuzz/seeds.c test/fuzz/fuzz.h src/fuse_abi.h
	@mkdir -p $(FB)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ test/fuzz/seeds.c

fuzz: $(FB)/fuzz $(FB)/seeds
	$(Q)rm -rf $(FB)/seeds.d && $(FB)/seeds $(FB)/seeds.d
	$(Q)mkdir -p $(FB)/corpus $(FB)/crashes
	$(FB)/fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=20 \
		-rss_limit_mb=4096 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix=$(FB)/crashes/ $(FUZZ_ARGS) $(FB)/corpus $(FB)/seeds.d

# The populate= readers' fuzzer; seeds: cpio and tar archives of src/
$(FB)/fuzz-archive: test/fuzz/archive.c $(FUZZ_SRCS) $(wildcard src/*.h)
	@mkdir -p $(FB)
	@echo "  CLANG   $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ \
		test/fuzz/archive.c $(FUZZ_SRCS)

fuzz-archive: $(FB)/fuzz-archive
	$(Q)rm -rf $(FB)/archive-seeds && mkdir -p $(FB)/archive-seeds $(FB)/archive-corpus $(FB)/crashes
	$(Q)find src -print0 | cpio -o -0 -H newc --quiet > $(FB)/archive-seeds/a.cpio
	$(Q)tar --format=pax -cf $(FB)/archive-seeds/a.tar src test/fuzz
	$(Q)tar --format=gnu -cf $(FB)/archive-seeds/g.tar src
	$(FB)/fuzz-archive -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=20 \
		-rss_limit_mb=4096 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix=$(FB)/crashes/ $(FUZZ_ARGS) $(FB)/archive-corpus $(FB)/archive-seeds

# QEMU test VM (vm/README.md); Debian's kernels come from apt via scripts/get-kernel
VM_ARGS ?=

vm-check: all
	vm/check --no-build $(VM_ARGS)

vm-selftest:
	vm/selftest

# switch_root into a populated ramfuse, tests from it, clean shutdown
vm-root-check: all
	vm/root-test --kernel 6.12 && vm/root-test --kernel 6.1

initramfs: all
	scripts/mkinitramfs -o $(B)/vm/initramfs.cpio

install: $(B)/ramfuse
	install -D -m 755 $(B)/ramfuse $(DESTDIR)$(PREFIX)/bin/ramfuse
	mkdir -p $(DESTDIR)$(SBINDIR)
	ln -sf $(PREFIX)/bin/ramfuse $(DESTDIR)$(SBINDIR)/mount.fuse.ramfuse
	ln -sf $(PREFIX)/bin/ramfuse $(DESTDIR)$(SBINDIR)/mount.ramfuse

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ramfuse $(DESTDIR)$(SBINDIR)/mount.fuse.ramfuse \
		$(DESTDIR)$(SBINDIR)/mount.ramfuse

# build/kernels is the download cache: clean keeps it
clean:
	rm -rf $(B)/obj $(B)/test $(B)/readme_example.c $(B)/ramfuse $(B)/ramfuse.sym \
		$(B)/ramfuse.map $(B)/vm $(B)/vmtest $(B)/kselftest build-san build-fuzz

.PHONY: all tests check check-uring check-long lint fuzz fuzz-archive install uninstall clean vm-check vm-selftest \
	vm-root-check initramfs one-test kselftest-compat size
