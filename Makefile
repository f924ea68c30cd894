# ramfuse — build with musl, static, small.
#   make            build/ramfuse and the test binaries
#   make check      run the test suite on this machine (root, /dev/fuse)
#   make vm-check   run the suite in QEMU on Debian's 6.12 and 6.1 kernels
#   make vm-selftest  the QEMU runner's own tests
#   make check-uring  the suite again, every mount over FUSE-over-io_uring
#   make check-long the differential test with many seeds
#   make lint       the same sources through clang -Wall -Wextra -Werror

CC      ?= musl-gcc
ifeq ($(origin CC),default)
CC      := musl-gcc
endif
CLANG   ?= clang
MUSL_INC ?= /usr/include/x86_64-linux-musl
CFLAGS  ?= -Os
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wvla -Wshadow -Wstrict-prototypes \
           -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
           -fno-stack-protector -D_GNU_SOURCE -pthread
LDFLAGS += -static -s -Wl,--gc-sections -pthread
PREFIX  ?= /usr/local
SBINDIR ?= /sbin

B := build
SRCS := $(sort $(wildcard src/*.c))
OBJS := $(SRCS:src/%.c=$(B)/obj/%.o)
TEST_SRCS := $(sort $(wildcard test/*_test.c))
TEST_BINS := $(TEST_SRCS:test/%.c=$(B)/test/%)
TEST_LIB  := $(filter-out $(TEST_SRCS) test/runner.c,$(sort $(wildcard test/*.c)))
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

tests: $(TEST_BINS) $(B)/test/run-tests $(B)/test/metabench

$(B)/test/%: test/%.c $(TEST_LIB) $(TEST_HDRS) | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -Itest -Isrc $(LDFLAGS) -o $@ $< $(TEST_LIB)

# scripts/bench's metadata load (not a test: run-tests runs *_test only)
$(B)/test/metabench: test/bench/metabench.c | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/test/run-tests: test/runner.c | $(B)/test
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/obj $(B)/test:
	mkdir -p $@

check: all
	$(B)/test/run-tests $(B)/test

# every mount with uring=on, the kernel's enable_uring on for the run only
check-uring: all
	RAMFUSE_EXTRA_OPTS=uring=on scripts/with-uring $(B)/test/run-tests $(B)/test

# the differential test with many more seeds (minutes)
check-long: all
	DIFF_ROUNDS=200 DIFF_STEPS=3000 TEST_TIMEOUT_MULT=10 $(B)/test/diff_test

lint:
	@for f in $(SRCS) $(TEST_SRCS) $(TEST_LIB) test/runner.c vm/init.c vm/selftest-standin.c; do \
		$(CLANG) -fsyntax-only -nostdinc -isystem $(MUSL_INC) \
			-isystem $$($(CLANG) -print-resource-dir)/include \
			-std=gnu11 -Wall -Wextra -Werror -Wvla -D_GNU_SOURCE -Isrc -Itest $$f || exit 1; \
	done; echo "lint: clang clean"

# QEMU test VM (vm/README.md); Debian's kernels come from apt via scripts/get-kernel
VM_ARGS ?=

vm-check: all
	vm/check --no-build $(VM_ARGS)

vm-selftest:
	vm/selftest

initramfs: all
	scripts/mkinitramfs -o $(B)/vm/initramfs.cpio

install: $(B)/ramfuse
	install -D -m 755 $(B)/ramfuse $(DESTDIR)$(PREFIX)/bin/ramfuse
	mkdir -p $(DESTDIR)$(SBINDIR)
	ln -sf $(PREFIX)/bin/ramfuse $(DESTDIR)$(SBINDIR)/mount.fuse.ramfuse
	ln -sf $(PREFIX)/bin/ramfuse $(DESTDIR)$(SBINDIR)/mount.ramfuse

# build/kernels is the download cache: clean keeps it
clean:
	rm -rf $(B)/obj $(B)/test $(B)/ramfuse $(B)/vm $(B)/vmtest

.PHONY: all tests check check-uring check-long lint install clean vm-check vm-selftest initramfs
