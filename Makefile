# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# memslope - one non-recursive Makefile; everything built lands under $(O)/.

O		?= build
PREFIX		?= /usr/local
DESTDIR		?=
CC		?= cc
CLANG		?= clang
BPFTOOL		?= bpftool
PYTHON		?= /usr/bin/python3

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian 12 packages: build, run and test. `make deps` is all a fresh machine needs.
# (bpftrace: bench/python.sh's memleak-equivalent column.)
DEPS_APT := clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev libcapstone-dev \
	    libjson-c-dev libcriterion-dev pkg-config make gcc python3 python3-pytest \
	    libprotobuf-c-dev protobuf-c-compiler protobuf-compiler chromium \
	    libmicrohttpd-dev libinih-dev libsystemd-dev prometheus bpftrace

ARCH		:= x86
PKGS		:= libbpf libdw libelf json-c libprotobuf-c libmicrohttpd inih libsystemd
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) capstone 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) capstone 2>/dev/null)

CFLAGS		?= -O2 -g
WARN		:= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
ALL_CFLAGS	:= $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
		   -Iinclude -Iuser -I$(O) $(PKG_CFLAGS)
LDLIBS		:= $(PKG_LIBS) -lz -lm
BPF_CFLAGS	:= $(BPF_EXTRA) -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		   -Ivmlinux -Iinclude -Ibpf -MMD -MP
SAN_FLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# BPF programs: every bpf/*.bpf.c is linked into one object and one skeleton.
BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKEL		:= $(O)/memslope.skel.h

# User space: modules that use libbpf or the skeleton; everything else is pure
# and is linked alone into the unit tests.
LIBBPF_SRCS	:= user/main.c user/trace_state.c $(wildcard user/cmd_*.c) $(wildcard user/bpf_*.c) \
		   user/daemon_escalate.c user/daemon_http.c
PURE_SRCS	:= $(filter-out $(LIBBPF_SRCS),$(wildcard user/*.c))
# pprof's schema, compiled by protoc-c into $(O)/proto/profile.pb-c.[ch] (pure too)
PROTO_C		:= $(O)/proto/profile.pb-c.c
PROTO_H		:= $(O)/proto/profile.pb-c.h
PURE_OBJS	:= $(patsubst user/%.c,$(O)/user/%.o,$(PURE_SRCS)) $(O)/proto/profile.pb-c.o
APP_OBJS	:= $(patsubst user/%.c,$(O)/user/%.o,$(LIBBPF_SRCS)) $(PURE_OBJS)
BIN		:= $(O)/memslope

UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
SAN_PURE_OBJS	:= $(patsubst user/%.c,$(O)/san/user/%.o,$(PURE_SRCS)) $(O)/san/proto/profile.pb-c.o
SAN_UNIT_BINS	:= $(patsubst tests/unit/%.c,$(O)/san/tests/unit/%,$(UNIT_SRCS))

# Workloads: programs with known leaks, built with frame pointers.
WL_SRCS		:= $(wildcard tests/workloads/*.c)
WL_BINS		:= $(patsubst tests/workloads/%.c,$(O)/workloads/%,$(WL_SRCS))
WL_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -Wall -Werror

.PHONY: all deps check unit unit-san root bench demo install clean vmlinux format
.DELETE_ON_ERROR:

all: $(BIN) $(WL_BINS)

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS_APT)

# --- BPF -------------------------------------------------------------------
$(O)/bpf/%.bpf.o: bpf/%.bpf.c include/memslope.h vmlinux/vmlinux.h | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/memslope.bpf.o: $(BPF_OBJS)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(O)/memslope.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memslope_bpf > $@

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# --- user space ------------------------------------------------------------
$(O)/user/%.o: user/%.c | $(O)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(patsubst user/%.c,$(O)/user/%.o,$(LIBBPF_SRCS)): $(SKEL)

# --- pprof schema (protobuf-c) -----------------------------------------------
$(PROTO_C) $(PROTO_H) &: proto/profile.proto | $(O)/proto
	$(call msg,PROTOC,$@)
	$(Q)protoc-c -I. --c_out=$(O) $<

$(O)/proto/%.o: $(O)/proto/%.c $(PROTO_H)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/san/proto/%.o: $(O)/proto/%.c $(PROTO_H) | $(O)/san/proto
	$(call msg,SAN-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

# generated before anything that may include it; -MMD tracks it from then on
$(APP_OBJS) $(SAN_PURE_OBJS) $(UNIT_BINS) $(SAN_UNIT_BINS): | $(PROTO_H)

$(BIN): $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(O)/workloads/%: tests/workloads/%.c | $(O)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@ -lpthread

# *_static.c workloads are linked statically: no libc.so to probe.
$(O)/workloads/%_static: tests/workloads/%_static.c | $(O)/workloads
	$(call msg,CC,$@)
	$(Q)$(CC) $(WL_CFLAGS) -static $< -o $@

# --- tests -----------------------------------------------------------------
$(O)/tests/unit/%: tests/unit/%.c $(PURE_OBJS) | $(O)/tests/unit
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(PURE_OBJS) $(LDLIBS) -lcriterion -o $@

$(O)/san/user/%.o: user/%.c | $(O)/san/user
	$(call msg,SAN-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(O)/san/tests/unit/%: tests/unit/%.c $(SAN_PURE_OBJS) | $(O)/san/tests/unit
	$(call msg,SAN-CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $< $(SAN_PURE_OBJS) $(LDLIBS) -lcriterion -o $@

unit: $(UNIT_BINS)
	@set -e; for t in $(abspath $(UNIT_BINS)); do echo "== $$t"; (cd tests/unit && $$t); done

unit-san: $(SAN_UNIT_BINS)
	@set -e; for t in $(abspath $(SAN_UNIT_BINS)); do echo "== $$t (asan+ubsan)"; \
		(cd tests/unit && ASAN_OPTIONS=detect_leaks=1 $$t); done

root: all
	MEMSLOPE=$(abspath $(BIN)) WORKLOADS=$(abspath $(O)/workloads) \
		$(PYTHON) -m pytest -v -p no:cacheprovider tests/root

check: unit unit-san root

bench: all
	bench/run.sh $(abspath $(BIN)) $(abspath $(O)/workloads)

# The main job on a built-in example: a C program leaking 1 MiB/s from leak_some(),
# traced for 12 s; the report also goes to $(O)/demo.json and $(O)/demo.html.
demo: all
	$(BIN) trace -i 1 -n 5 --json $(O)/demo.json --html $(O)/demo.html -- $(O)/workloads/leaky 12

SYSTEMD_UNITDIR	?= /lib/systemd/system
SYSCONFDIR	?= /etc

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/memslope
	sed 's|@BINDIR@|$(PREFIX)/bin|g' deploy/memslope.service > $(O)/memslope.service
	install -D -m 0644 $(O)/memslope.service $(DESTDIR)$(SYSTEMD_UNITDIR)/memslope.service
	test -e $(DESTDIR)$(SYSCONFDIR)/memslope/memslope.conf || \
		install -D -m 0644 deploy/memslope.conf $(DESTDIR)$(SYSCONFDIR)/memslope/memslope.conf
	install -D -m 0644 deploy/prometheus/memslope.rules.yml \
		$(DESTDIR)$(PREFIX)/share/memslope/prometheus/memslope.rules.yml
	install -D -m 0644 deploy/prometheus/scrape.yml \
		$(DESTDIR)$(PREFIX)/share/memslope/prometheus/scrape.yml

format:
	clang-format -i $(wildcard user/*.[ch] bpf/*.[ch] include/*.h tests/unit/*.c tests/workloads/*.c)

clean:
	rm -rf $(O)

$(O)/bpf $(O)/user $(O)/workloads $(O)/tests/unit $(O)/san/user $(O)/san/tests/unit \
$(O)/proto $(O)/san/proto:
	$(Q)mkdir -p $@

-include $(wildcard $(O)/bpf/*.d $(O)/user/*.d $(O)/san/user/*.d $(O)/tests/unit/*.d \
		    $(O)/proto/*.d $(O)/san/proto/*.d)
