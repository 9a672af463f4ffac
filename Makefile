# Doorstep - one Makefile for the hub (appliance/), the doorbell (firmware/),
# their tests and tools. `make help` lists the targets.
#
# Variants: the default build goes to build/; `make SANITIZE=1` builds the
# ASan+UBSan variant into build/asan/ (what `make test` runs); `make DEBUG=1`
# a debug build into build/debug/. ASan and debug builds define DOORSTEP_DEBUG:
# error-checking mutexes and lock-ownership checks (common/mutex.h).

SHELL := /bin/bash
.DEFAULT_GOAL := all

SANITIZE ?= 0
DEBUG ?= $(SANITIZE)
ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SANITIZER_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPTIMIZE := -O1
else ifeq ($(DEBUG),1)
BUILD ?= build/debug
SANITIZER_FLAGS :=
OPTIMIZE := -O1
else
BUILD ?= build
SANITIZER_FLAGS :=
OPTIMIZE := -O2
endif
ifeq ($(DEBUG),1)
DEBUG_FLAGS := -DDOORSTEP_DEBUG
else
DEBUG_FLAGS :=
endif

# `make V=1` prints whole commands; by default one short line per step.
V ?= 0
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc/doorstep
STATEDIR ?= /var/lib/doorstep

CC ?= gcc

# `make firmware` runs this Makefile again once per board architecture with
# FIRMWARE_ARCH set (and BUILD=build/firmware/ARCH, CC=TRIPLET-gcc): the same
# source lists and flags build the doorbell alone, with no hub and no civetweb.
FIRMWARE_ARCHES ?= amd64 arm64 armhf
FIRMWARE_TRIPLETS := amd64=x86_64-linux-gnu arm64=aarch64-linux-gnu armhf=arm-linux-gnueabihf
firmware_triplet = $(patsubst $(1)=%,%,$(filter $(1)=%,$(FIRMWARE_TRIPLETS)))
FIRMWARE_ARCH ?=
ifneq ($(FIRMWARE_ARCH),)
FIRMWARE_TRIPLET := $(call firmware_triplet,$(FIRMWARE_ARCH))
ifeq ($(FIRMWARE_TRIPLET),)
$(error FIRMWARE_ARCH=$(FIRMWARE_ARCH): not one of $(FIRMWARE_TRIPLETS))
endif
# pkg-config answers for the board's libraries, not this machine's.
export PKG_CONFIG_LIBDIR := /usr/lib/$(FIRMWARE_TRIPLET)/pkgconfig:/usr/share/pkgconfig
endif

# The install paths are compiled into the programs as defaults: remember them,
# and rebuild what uses them when they change (`make install PREFIX=/usr`).
BUILD_SETTINGS := $(BUILD)/install-paths.txt
BUILD_SETTINGS_TEXT := $(PREFIX) $(SYSCONFDIR) $(STATEDIR)
$(shell mkdir -p $(BUILD) && (echo '$(BUILD_SETTINGS_TEXT)' | cmp -s - $(BUILD_SETTINGS) || \
    echo '$(BUILD_SETTINGS_TEXT)' > $(BUILD_SETTINGS)))
CIVETWEB_SOURCE := build/src/civetweb
CIVETWEB_STAMP := $(CIVETWEB_SOURCE)/.fetched

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-missing-field-initializers
# Each program sees its own tree and common/ (through $(BUILD)/include/common,
# a link to it), so an include of the other program's file fails to compile.
# Tests may include both trees.
INCLUDE_ROOT := $(BUILD)/include
COMMON_INCLUDE_LINK := $(INCLUDE_ROOT)/common
CPPFLAGS_ALL = -D_GNU_SOURCE $(DEBUG_FLAGS) $(TREE_INCLUDES) -I$(INCLUDE_ROOT) -I$(CIVETWEB_SOURCE)/include \
    -DDOORSTEP_DEFAULT_CONFIG='"$(SYSCONFDIR)/doorstepd.conf"' \
    -DDOORSTEP_DEFAULT_DATA_DIR='"$(STATEDIR)"' \
    -DDOORSTEP_DEFAULT_WWW_DIR='"$(PREFIX)/share/doorstep/www"' \
    -DDOORSTEP_DEFAULT_REPLIES_DIR='"$(PREFIX)/share/doorstep/replies"' \
    -I/usr/include/opus
CFLAGS_ALL := -std=c11 -g $(OPTIMIZE) $(WARNINGS) $(SANITIZER_FLAGS) -MMD -MP
LDFLAGS_ALL := $(SANITIZER_FLAGS)
# Objects wait for civetweb's sources (the hub includes its header); a
# doorbell-only build needs none of it.
OBJECT_ORDER_ONLY := $(CIVETWEB_STAMP)
ifneq ($(FIRMWARE_ARCH),)
OBJECT_ORDER_ONLY :=
FIRMWARE_LINK_DIR := $(BUILD)/link
LDFLAGS_ALL += -L$(FIRMWARE_LINK_DIR)
endif

HUB_LIBS := -lavahi-client -lavahi-common -lmbedtls -lmbedx509 -lmbedcrypto -lcurl -lsqlite3 -largon2 -lcjson -ljpeg -lopusfile -lopus \
    -lsndfile -lspeexdsp -lasound -lpthread -ldl -lm
# The person detector (appliance/detection/): OpenCV's HOG, through one C++
# file; Debian ships no opencv4.pc, so its headers and libraries are named here.
OPENCV_INCLUDE := -I/usr/include/opencv4
HUB_LIBS += -lopencv_objdetect -lopencv_imgproc -lopencv_core -lstdc++
FIRMWARE_LIBS := -lavahi-client -lavahi-common -lwebsockets -lssl -lcrypto -largon2 -lx264 -ljpeg -lasound -lopus -lspeexdsp -lcjson -lmbedcrypto -lpthread -lm

# Sources: one folder per subsystem. Program entry points live in main.c files.
# common/: what both programs run (device link, motion settings, ALSA output,
# chime, logging, clocks, byte buffers, mutexes).
COMMON_SOURCES := $(sort $(wildcard common/*.c))
HUB_SOURCES := $(sort $(filter-out appliance/main.c appliance/cli/%,$(wildcard appliance/*/*.c)))
# The hub's only C++: thin wrappers around a C++ library (appliance/detection/).
HUB_CXX_SOURCES := $(sort $(wildcard appliance/*/*.cpp))
# The CLI's own files besides its main.c (one per command group).
CLI_SOURCES := $(sort $(filter-out appliance/cli/main.c,$(wildcard appliance/cli/*.c)))
FIRMWARE_SOURCES := $(sort $(filter-out firmware/main.c,$(wildcard firmware/*/*.c)))

obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(patsubst %.c,$(BUILD)/obj/%.o,$(1)))
COMMON_OBJECTS := $(call obj,$(COMMON_SOURCES))
HUB_OBJECTS := $(call obj,$(HUB_SOURCES) $(HUB_CXX_SOURCES))
FIRMWARE_OBJECTS := $(call obj,$(FIRMWARE_SOURCES))
CIVETWEB_OBJECT := $(BUILD)/obj/civetweb.o
MIGRATIONS_SOURCE := $(BUILD)/gen/migrations.c
MIGRATIONS_OBJECT := $(BUILD)/obj/gen/migrations.o
MIGRATION_FILES := $(sort $(wildcard db/migrations/*.sql))

HUB_ARCHIVE := $(BUILD)/lib/libdoorstep_hub.a
FIRMWARE_ARCHIVE := $(BUILD)/lib/libdoorstep_firmware.a
COMMON_ARCHIVE := $(BUILD)/lib/libdoorstep_common.a

PROGRAMS := $(BUILD)/doorstepd $(BUILD)/doorstep $(BUILD)/doorbelld
# The stock quick replies, spoken by espeak-ng (the hub imports them at start).
STOCK_REPLIES := $(BUILD)/replies/.made

UNIT_TEST_SOURCES := $(sort $(wildcard tests/unit/test_*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TEST_SOURCES))

FUZZ_SOURCES := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SOURCES))
FUZZ_SECONDS ?= 6
# Builds inside `make test` use every core (the suites themselves run one at a time).
JOBS ?= $(shell nproc)

.PHONY: all help deps civetweb programs unit-tests fuzzers check test test-unit test-fuzz \
        test-integration test-e2e run bench bench-compare install clean format FORCE \
        firmware firmware-packages test-firmware

FORCE:

help:
	@echo "make            build hub, doorbell and CLI into build/"
	@echo "make deps       install Debian packages and npm modules (idempotent)"
	@echo "make run        start a hub and one simulated doorbell under ./var"
	@echo "make check      include layers, code idioms (scripts/check-*.sh) and clang-format"
	@echo "make test       check, then unit, fuzz, integration and browser tests (ASan+UBSan build)"
	@echo "make DEBUG=1    debug build into build/debug/ (lock checks, as the ASan build)"
	@echo "make bench      print performance figures as JSON lines"
	@echo "make bench-compare OLD=REV  the same benchmarks on REV and here, alternating"
	@echo "make install    install to DESTDIR/PREFIX (default /usr/local)"
	@echo "make firmware   doorbell .deb packages for amd64, arm64, armhf in build/firmware/"
	@echo "make test-firmware  check those packages; self-test each binary (qemu for arm)"
	@echo "make clean      remove build/"

all: programs

programs: $(PROGRAMS) $(STOCK_REPLIES)

$(STOCK_REPLIES): scripts/make-stock-replies.sh
	$(call say,GEN,$(dir $@))
	$(Q)scripts/make-stock-replies.sh $(dir $@) && touch $@

deps:
	@scripts/deps.sh

# Re-fetched (and re-patched) when our patches or the script change.
$(CIVETWEB_STAMP): scripts/fetch-civetweb.sh $(wildcard scripts/civetweb-patches/*.patch)
	@scripts/fetch-civetweb.sh $(CIVETWEB_SOURCE)

civetweb: $(CIVETWEB_STAMP)

# civetweb is third-party code: compiled with its own warning level, but with
# our sanitizers so ASan sees buffers it hands us. REENTRANT_TIME makes it use
# gmtime_r: its default gmtime() shares one static struct between threads, and
# a Date header formatted while another thread formats a file's Last-Modified
# came out as a mix of both (a day off), which moved the web UI's clock.
CIVETWEB_DEFINES := -DUSE_MBEDTLS -DUSE_WEBSOCKET -DUSE_IPV6 -DNO_CGI -DNO_FILES_EXCLUSIVE=0 \
    -DREENTRANT_TIME -DDOORSTEP_WEBSOCKET_MAX_FRAME=8388608 -DDOORSTEP_HTTP_MAX_BODY=1048576
CIVETWEB_FLAGS_STAMP := $(BUILD)/obj/civetweb.flags

# Rewritten only when the defines change, so a change rebuilds civetweb.o.
$(CIVETWEB_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CIVETWEB_DEFINES)' | cmp -s - $@ || echo '$(CIVETWEB_DEFINES)' > $@

$(CIVETWEB_OBJECT): $(CIVETWEB_STAMP) $(CIVETWEB_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -c -std=gnu11 -g $(OPTIMIZE) $(SANITIZER_FLAGS) -Wno-cpp $(CIVETWEB_DEFINES) \
	    -I$(CIVETWEB_SOURCE)/include $(CIVETWEB_SOURCE)/src/civetweb.c -o $@

$(BUILD)/obj/appliance/%.o $(BUILD)/obj/gen/%.o: TREE_INCLUDES := -Iappliance
$(BUILD)/obj/firmware/%.o: TREE_INCLUDES := -Ifirmware
$(BUILD)/obj/common/%.o: TREE_INCLUDES :=
$(BUILD)/obj/tests/%.o: TREE_INCLUDES := -Iappliance -Ifirmware

%/include/common:
	@mkdir -p $(dir $@)
	$(Q)ln -sfn $(CURDIR)/common $@

$(BUILD)/obj/%.o: %.c | $(OBJECT_ORDER_ONLY) $(COMMON_INCLUDE_LINK)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

# C++ (the detector's OpenCV wrapper): the same warnings, sanitizers and includes.
CXX ?= g++
CXXFLAGS_ALL := -std=c++17 -g $(OPTIMIZE) $(WARNINGS) $(SANITIZER_FLAGS) -MMD -MP
$(BUILD)/obj/%.o: %.cpp | $(OBJECT_ORDER_ONLY) $(COMMON_INCLUDE_LINK)
	@mkdir -p $(dir $@)
	$(call say,CXX,$<)
	$(Q)$(CXX) $(CPPFLAGS_ALL) $(OPENCV_INCLUDE) $(CXXFLAGS_ALL) -c $< -o $@

# The schema travels inside the binary (scripts/embed-migrations.sh).
$(MIGRATIONS_SOURCE): $(MIGRATION_FILES) scripts/embed-migrations.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q)scripts/embed-migrations.sh $@ $(MIGRATION_FILES)
$(MIGRATIONS_OBJECT): $(MIGRATIONS_SOURCE) | $(COMMON_INCLUDE_LINK)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/appliance/core/config.o $(BUILD)/obj/appliance/cli/main.o: $(BUILD_SETTINGS)

$(COMMON_ARCHIVE): $(COMMON_OBJECTS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(HUB_ARCHIVE): $(HUB_OBJECTS) $(CIVETWEB_OBJECT) $(MIGRATIONS_OBJECT)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(FIRMWARE_ARCHIVE): $(FIRMWARE_OBJECTS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/doorstepd: $(BUILD)/obj/appliance/main.o $(HUB_ARCHIVE) $(COMMON_ARCHIVE)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $^ -o $@ $(HUB_LIBS)
$(BUILD)/doorstep: $(BUILD)/obj/appliance/cli/main.o $(call obj,$(CLI_SOURCES)) $(HUB_ARCHIVE) $(COMMON_ARCHIVE)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $^ -o $@ $(HUB_LIBS)
$(BUILD)/doorbelld: $(BUILD)/obj/firmware/main.o $(FIRMWARE_ARCHIVE) $(COMMON_ARCHIVE)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $^ -o $@ $(FIRMWARE_LIBS)

# A unit test is built from its own file, common/ and the sources it
# names on a "UNIT_SOURCES:" line, so one module's test never waits on another.
unit_sources = $(shell sed -n 's/.*UNIT_SOURCES:\([^*]*\).*/\1/p' $(1))
.SECONDEXPANSION:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(COMMON_OBJECTS) $(MIGRATIONS_OBJECT) \
                  $$(call obj,$$(call unit_sources,tests/unit/$$*.c))
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $^ -o $@ $(sort $(HUB_LIBS) $(FIRMWARE_LIBS)) -lcmocka

unit-tests: $(UNIT_TESTS)

# libFuzzer harnesses: clang, always with ASan+UBSan, own object set.
# common/ is compiled once with the fuzzers' instrumentation and linked into
# every harness; each harness compiles the hub or doorbell files its
# "FUZZ_SOURCES:" lines name itself (scripts/fuzz-sources.sh).
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -DDOORSTEP_DEBUG -Iappliance -Ifirmware -Ibuild/include -I/usr/include/opus \
    -fno-sanitize-recover=undefined $(WARNINGS)
FUZZ_CFLAGS := $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_COMMON_OBJECTS := $(patsubst common/%.c,build/fuzz/obj/common/%.o,$(COMMON_SOURCES))
build/fuzz/obj/common/%.o: common/%.c | build/include/common
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@
-include $(FUZZ_COMMON_OBJECTS:.o=.d)
.SECONDARY: $(FUZZ_COMMON_OBJECTS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON_OBJECTS) $(HUB_SOURCES) $(FIRMWARE_SOURCES) | $(CIVETWEB_STAMP) build/include/common
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -I$(CIVETWEB_SOURCE)/include $< $(shell scripts/fuzz-sources.sh $<) \
	    $(FUZZ_COMMON_OBJECTS) -o $@ $(sort $(HUB_LIBS) $(FIRMWARE_LIBS))

# The civetweb harness compiles civetweb.c itself: rebuilt with its patches.
build/fuzz/fuzz_civetweb: $(CIVETWEB_STAMP)

fuzzers: $(FUZZERS)

# ---- tests ----------------------------------------------------------------

# The C files clang-format keeps to .clang-format (civetweb, generated code
# and node_modules are not ours).
FORMAT_FILES := $(sort $(wildcard appliance/*.c appliance/*/*.[ch] appliance/*/*.cpp firmware/*.c firmware/*/*.[ch] \
                  common/*.[ch] tests/unit/*.[ch] tests/unit/*/*.[ch] tests/fuzz/*.[ch]))

# Seconds, before anything is built: who may include whom (and a test that
# the check catches a wrong include), and the formatting.
check:
	@scripts/check-layers.sh
	@tests/layers/check-layers.test.sh
	@scripts/check-idioms.sh && echo "check-idioms: ok"
	@tests/layers/check-idioms.test.sh
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "clang-format: ok"

test: deps
	$(MAKE) check
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SANITIZE=1 all unit-tests
	$(MAKE) -j$(JOBS) fuzzers
	$(MAKE) -k test-unit test-fuzz test-integration test-e2e

test-unit:
	@scripts/run-unit-tests.sh build/asan/tests

test-fuzz:
	@scripts/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

test-integration:
	@scripts/run-integration.sh $(CURDIR)/build/asan

test-e2e:
	cd tests && DOORSTEP_BUILD=$(CURDIR)/build/asan node --test --test-concurrency=1 e2e/

# ---- run, bench, install --------------------------------------------------

run: deps all
	@scripts/run.sh

comma := ,

bench: all
	@DOORSTEP_BENCH_DEPS=1 scripts/deps.sh
	@scripts/bench.sh

# make bench-compare OLD=<commit> [BENCHES=ingest,fanout,record] [ROUNDS=3]
bench-compare: all
	@DOORSTEP_BENCH_DEPS=1 scripts/deps.sh
	@scripts/bench-compare.sh $(OLD) $(or $(BENCHES),ingest$(comma)fanout$(comma)record) $(or $(ROUNDS),3)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(BUILD)/doorstepd $(DESTDIR)$(PREFIX)/sbin/doorstepd
	install -m 0755 $(BUILD)/doorstep $(DESTDIR)$(PREFIX)/bin/doorstep
	install -m 0755 $(BUILD)/doorbelld $(DESTDIR)$(PREFIX)/sbin/doorbelld
	install -d $(DESTDIR)$(PREFIX)/share/doorstep/www $(DESTDIR)$(PREFIX)/share/doorstep/db/migrations
	cp -R www/. $(DESTDIR)$(PREFIX)/share/doorstep/www/
	install -m 0644 db/migrations/*.sql $(DESTDIR)$(PREFIX)/share/doorstep/db/migrations/
	install -d $(DESTDIR)$(PREFIX)/share/doorstep/replies
	install -m 0644 $(BUILD)/replies/*.wav $(DESTDIR)$(PREFIX)/share/doorstep/replies/
	install -d $(DESTDIR)$(SYSCONFDIR)
	test -e $(DESTDIR)$(SYSCONFDIR)/doorstepd.conf || \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@STATEDIR@|$(STATEDIR)|g' \
	        systemd/doorstepd.conf.in > $(DESTDIR)$(SYSCONFDIR)/doorstepd.conf
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	for unit in systemd/*.service; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        -e 's|@STATEDIR@|$(STATEDIR)|g' $$unit \
	        > $(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$unit); done
	install -d $(DESTDIR)$(PREFIX)/share/doc/doorstep
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/doorstep/
	install -d -m 0750 $(DESTDIR)$(STATEDIR)

# ---- doorbell packages ------------------------------------------------------

# build/firmware/doorstep-doorbell_VERSION_ARCH.deb for each board architecture
# (docs/dependencies.md: Debian's cross compilers and qemu). VERSION comes from
# `git describe` (scripts/firmware-version.sh) unless given.
ifeq ($(FIRMWARE_ARCH),)
FIRMWARE_VERSION := $(or $(VERSION),$(shell scripts/firmware-version.sh))
FIRMWARE_PACKAGES := $(foreach arch,$(FIRMWARE_ARCHES),\
    build/firmware/doorstep-doorbell_$(FIRMWARE_VERSION)_$(arch).deb)
FIRMWARE_PACKAGE_FILES := scripts/build-firmware-package.sh $(wildcard packaging/doorbell/*)

firmware:
	@DOORSTEP_FIRMWARE_DEPS=1 scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory firmware-packages VERSION=$(FIRMWARE_VERSION)

# The binaries are named here so make keeps them (they are not intermediate).
firmware-packages: $(FIRMWARE_PACKAGES) $(foreach arch,$(FIRMWARE_ARCHES),build/firmware/$(arch)/doorbelld)

# Always asked: the architecture's own make knows the doorbell's sources and
# relinks only when one changed (the package follows the binary's time).
build/firmware/%/doorbelld: FORCE
	$(Q)$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) FIRMWARE_ARCH=$* BUILD=build/firmware/$* SANITIZE=0 DEBUG=0 \
	    CC=$(call firmware_triplet,$*)-gcc $@

build/firmware/doorstep-doorbell_$(FIRMWARE_VERSION)_%.deb: build/firmware/%/doorbelld \
                                                            $(FIRMWARE_PACKAGE_FILES)
	$(call say,DEB,$@)
	$(Q)rm -f $(filter-out $@,$(wildcard build/firmware/doorstep-doorbell_*_$*.deb))
	$(Q)scripts/build-firmware-package.sh $* $(FIRMWARE_VERSION) $< $@

test-firmware: firmware
	@tests/firmware/test-firmware.sh $(FIRMWARE_PACKAGES)
else
# The cross linker finds the board's libwebsockets17 through this link: its
# -dev package cannot be installed beside this machine's (scripts/deps.sh).
$(FIRMWARE_LINK_DIR)/libwebsockets.so:
	@mkdir -p $(dir $@)
	$(Q)library='$(firstword $(wildcard /usr/lib/$(FIRMWARE_TRIPLET)/libwebsockets.so.[0-9]*))'; \
	    if [ -z "$$library" ]; then \
	        echo "firmware: libwebsockets17:$(FIRMWARE_ARCH) is missing" \
	             "(DOORSTEP_FIRMWARE_DEPS=1 scripts/deps.sh)" >&2; exit 1; fi; \
	    ln -sfn "$$library" $@
$(BUILD)/doorbelld: | $(FIRMWARE_LINK_DIR)/libwebsockets.so
endif

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
