# Kestrel — one non-recursive Makefile. Everything lands in build/.
#
#   make            kernel ELF, raw disk image, hybrid ISO, symbols, listing
#   make run        boot in QEMU (-smp 4); BOOT=img (default), iso or uefi
#   make debug      QEMU stopped at reset + gdb stopping at kernel_main
#   make test       host unit tests + QEMU boot tests
#   make bench      in-guest benchmarks (guest TSC cycles, medians) of a release
#                   build (build/release, debug checks off) beside the debug build
#   make release    that release build alone: build/release/kestrel.{elf,img}
#   make fuzz       random system calls, then the kernel's own checks [FUZZ_SECONDS= FUZZ_SEED=]
#   make usb DEV=/dev/sdX [YES=1] [IMAGE=build/kestrel.iso]
#   make clean
#   ACCEL=auto|kvm|tcg for run, debug, test, bench and soak (tools/accel.py)

CROSS_COMPILE ?=
CC      := $(CROSS_COMPILE)gcc
LD      := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
OBJDUMP := $(CROSS_COMPILE)objdump
NM      := $(CROSS_COMPILE)nm
HOSTCC  ?= cc
PYTHON  ?= python3
B       := build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

KESTREL_VERSION := 0.1.0
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN    := -Wall -Wextra -Werror
COMMON  := -std=gnu11 -ffreestanding -fno-pic -fno-stack-protector -nostdlib \
           -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
           -fno-tree-loop-distribute-patterns \
           -Iinclude $(WARN) -MMD -MP
# KDEBUG=1 (default): the kernel's debug checks, KMALLOC_DEBUG (red zones,
# poison) and LOCK_DEBUG (owner, lock order, spin timeouts). `make release`
# builds the same sources with KDEBUG=0 into build/release.
KDEBUG  ?= 1
KCFLAGS := $(COMMON) -m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
           -O2 -g -DKESTREL_VERSION='"$(KESTREL_VERSION)"' -DGIT_REV='"$(GIT_REV)"' \
           -DKMALLOC_DEBUG=$(KDEBUG) -DLOCK_DEBUG=$(KDEBUG)
KASFLAGS := -m64 -Iinclude -g -D__ASSEMBLER__ -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
            --build-id=none -T linker.ld

# ---------------------------------------------------------------- kernel
KERNEL_C := $(wildcard kernel/*.c arch/x86_64/*.c mm/*.c sched/*.c smp/*.c drivers/*.c \
                      tests/kernel/*.c) \
            boot/bootinfo.c boot/bootinfo_mmap.c boot/bootinfo_mb2.c boot/elf.c
KERNEL_S := $(wildcard arch/x86_64/*.S smp/*.S) boot/multiboot2.S
KERNEL_OBJ := $(patsubst %,$(B)/k/%.o,$(KERNEL_C) $(KERNEL_S)) $(B)/k/fbcon_font.c.o

all: $(B)/kestrel.elf $(B)/kestrel.img $(B)/kestrel.iso $(B)/kestrel.sym $(B)/kestrel.lst \
     $(B)/kvm_probe.bin

# The console font, generated from a packaged PSF (tools/mkfont.py, docs/console.md).
FONT ?= /usr/share/consolefonts/Lat15-Terminus16.psf.gz
$(B)/gen/fbcon_font.c: tools/mkfont.py $(FONT)
	@mkdir -p $(dir $@)
	@echo "  FONT    $@"
	$(Q)$(PYTHON) tools/mkfont.py $(FONT) -o $@

$(B)/k/fbcon_font.c.o: $(B)/gen/fbcon_font.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(B)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

# This test needs the XMM registers the rest of the kernel never touches.
$(B)/k/tests/kernel/fpu_tests.c.o: KCFLAGS := $(filter-out -mgeneral-regs-only,$(KCFLAGS)) -msse2

$(B)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

# Symbols are embedded in the kernel (for backtraces) in two link passes.
# .ksyms is the last section, so pass 2 moves no code: the check below
# compares every text symbol of both passes.
$(B)/ksyms0.S:
	@mkdir -p $(B)
	$(Q)$(PYTHON) tools/mksyms.py --empty > $@

$(B)/ksyms%.o: $(B)/ksyms%.S
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

$(B)/kestrel.pass1.elf: $(KERNEL_OBJ) $(B)/ksyms0.o linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJ) $(B)/ksyms0.o

$(B)/ksyms1.S: $(B)/kestrel.pass1.elf tools/mksyms.py
	$(Q)$(NM) -n $< | $(PYTHON) tools/mksyms.py > $@

$(B)/kestrel.elf: $(KERNEL_OBJ) $(B)/ksyms1.o linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJ) $(B)/ksyms1.o
	$(Q)cmp -s <($(NM) -n $(B)/kestrel.pass1.elf | grep -i ' t ') \
	           <($(NM) -n $@ | grep -i ' t ') || \
	    { echo "error: symbol pass moved code"; rm -f $@; exit 1; }
	$(Q)if command -v grub-file >/dev/null; then grub-file --is-x86-multiboot2 $@ || \
	    { echo "error: $@ is not multiboot2"; rm -f $@; exit 1; }; fi

$(B)/kestrel.sym: $(B)/kestrel.elf
	$(Q)$(NM) -n $< > $@

$(B)/kestrel.lst: $(B)/kestrel.elf
	$(Q)$(OBJDUMP) -d -S -M intel $< > $@

SHELL := /bin/bash

# ---------------------------------------------------------------- user + initrd
# >>> user (ring-3 programs and the initrd; see user/README.md)
# Programs are static ELF64 executables at 0x400000 (user/user.ld) linked
# against a small libc, libkestrel.a (user/lib, plus the kernel's freestanding
# printf engine and string functions). The initrd is a deterministic ustar
# archive of all of them, named without directories.
# -fno-tree-loop-distribute-patterns: the library's memcpy/memset loops must
# not be turned into calls to themselves. SSE is allowed in user code (the
# kernel saves FPU state per task), so no -mgeneral-regs-only here.
USER_CFLAGS  := -std=gnu11 -ffreestanding -fno-pic -fno-pie -static -nostdlib -mno-red-zone \
                -O2 -g -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
                -fno-tree-loop-distribute-patterns -Iinclude -Iuser/include $(WARN) -MMD -MP
USER_ASFLAGS := -Iinclude -Iuser/include -D__ASSEMBLER__ -MMD -MP
USER_LDFLAGS := -static -nostdlib -T user/user.ld -z max-page-size=0x1000 -z noexecstack \
                --build-id=none --orphan-handling=error
USER_LIB_SRC := $(wildcard user/lib/*.c user/lib/*.S) kernel/format.c kernel/string.c
USER_LIB_OBJ := $(patsubst %,$(B)/user/%.o,$(filter-out user/lib/crt0.S,$(USER_LIB_SRC)))
USER_CRT0    := $(B)/user/user/lib/crt0.S.o
USER_LIB     := $(B)/user/libkestrel.a
# GCC's own helpers (e.g. __popcountdi2), which -nostdlib leaves out.
USER_LIBGCC  := $(shell $(CC) -print-libgcc-file-name)
USER_PROGS   := $(sort $(patsubst user/bin/%.c,%,$(wildcard user/bin/*.c)))
USER_BINS    := $(addprefix $(B)/user/bin/,$(USER_PROGS))
USER_PROG_OBJ := $(patsubst %,$(B)/user/user/bin/%.c.o,$(USER_PROGS))
USER_AR      := $(CROSS_COMPILE)ar
INITRD       := $(B)/initrd.tar
# ustar, sorted, fixed times and owners: the same programs give the same bytes.
INITRD_TAR_FLAGS := --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner

$(B)/user/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  UCC     $<"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(B)/user/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  UAS     $<"
	$(Q)$(CC) $(USER_ASFLAGS) -c $< -o $@

$(USER_LIB): $(USER_LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(USER_AR) rcsD $@ $^

$(B)/user/bin/%: $(B)/user/user/bin/%.c.o $(USER_CRT0) $(USER_LIB) user/user.ld
	@mkdir -p $(dir $@)
	@echo "  ULD     $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(USER_CRT0) $< $(USER_LIB) $(USER_LIBGCC)

# build/user/bin keeps the DWARF for gdb (kestrel-user); the initrd gets
# stripped copies, a third of the size for the loaders to read.
USER_STRIPPED := $(addprefix $(B)/user/initrd/,$(USER_PROGS))

$(B)/user/initrd/%: $(B)/user/bin/%
	@mkdir -p $(dir $@)
	$(Q)$(OBJCOPY) --strip-debug $< $@

$(INITRD): $(USER_STRIPPED)
	@echo "  TAR     $@"
	$(Q)tar $(INITRD_TAR_FLAGS) -C $(B)/user/initrd -cf $@ $(USER_PROGS)

# Make would delete these objects as intermediates; keep them for incremental builds.
.SECONDARY: $(USER_CRT0) $(USER_PROG_OBJ) $(USER_BINS)

user: $(INITRD)
.PHONY: user
# <<< user

# >>> boot (our BIOS loader: stage 1, stage 2, raw disk image)
# Stage 2's C runs in 32-bit protected mode: -m32, no SSE, small; there is
# no -m32 libgcc, so that code must not divide 64-bit numbers. The .elf
# files keep their symbols for gdb; the .bin files are what goes on disk.
BOOT_CFLAGS := -std=gnu11 -m32 -march=i686 -ffreestanding -fno-pic -fno-stack-protector -Os \
               -mgeneral-regs-only -fno-asynchronous-unwind-tables \
               -fno-tree-loop-distribute-patterns -Iinclude $(WARN) -MMD -MP -g \
               -DKESTREL_VERSION='"$(KESTREL_VERSION)"'
BOOT_ASFLAGS := -m32 -Iinclude -g -D__ASSEMBLER__ -MMD -MP
BOOT_LDFLAGS := -m elf_i386 -nostdlib -static --no-warn-rwx-segments --build-id=none
# Link scripts go through cpp so their addresses come from include/boot/loader.h.
BOOT_LDSCPP  := $(CC) -E -P -x assembler-with-cpp -undef -D__ASSEMBLER__ -Iinclude -MMD -MP
STAGE2_OBJ   := $(B)/boot/stage2.o $(B)/boot/loader.o $(B)/boot/console.o $(B)/boot/a20.o \
                $(B)/boot/memmap.o $(B)/boot/disk.o $(B)/boot/rsdp.o $(B)/boot/bootinfo.o $(B)/boot/bootinfo_mmap.o \
                $(B)/boot/elf.o $(B)/boot/string.o $(B)/boot/vbe.o $(B)/boot/vbe_choose.o \
                $(B)/boot/crc32.o $(B)/boot/gpt.o
# Default kernel command line stored in the image: make IMG_CMDLINE="...".
IMG_CMDLINE  ?=
export IMG_CMDLINE

$(B)/boot/%.o: boot/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	$(Q)$(CC) $(BOOT_ASFLAGS) -c $< -o $@

$(B)/boot/%.o: boot/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	$(Q)$(CC) $(BOOT_CFLAGS) -c $< -o $@

$(B)/boot/string.o $(B)/boot/crc32.o: $(B)/boot/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	$(Q)$(CC) $(BOOT_CFLAGS) -c $< -o $@

$(B)/boot/%.ld: boot/%.ld
	@mkdir -p $(dir $@)
	$(Q)$(BOOT_LDSCPP) -MT $@ -MF $@.d $< -o $@

$(B)/stage1.elf: $(B)/boot/stage1.o $(B)/boot/stage1.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(BOOT_LDFLAGS) -T $(B)/boot/stage1.ld -o $@ $(B)/boot/stage1.o

$(B)/stage2.elf: $(STAGE2_OBJ) $(B)/boot/boot.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(BOOT_LDFLAGS) -T $(B)/boot/boot.ld -o $@ $(STAGE2_OBJ)

$(B)/stage%.bin: $(B)/stage%.elf
	$(Q)$(OBJCOPY) -O binary $< $@

# Rewritten only when IMG_CMDLINE changes, so the image follows the variable.
$(B)/boot/img_cmdline: boot-cmdline-check
	@mkdir -p $(dir $@)
	$(Q)printf '%s' "$$IMG_CMDLINE" | cmp -s - $@ 2>/dev/null || printf '%s' "$$IMG_CMDLINE" > $@

# GRUB for the image's EFI system partition: every module it needs built in
# (no module directory on the ESP); $$prefix /EFI/BOOT, where mkimage.py puts
# grub.cfg. efi_gop/efi_uga give the kernel a framebuffer, as on the ISO.
GRUB_EFI_MODULES := part_gpt fat multiboot2 normal boot serial terminal regexp test echo \
                    efi_gop efi_uga
$(B)/bootx64.efi: Makefile
	@mkdir -p $(dir $@)
	@echo "  GRUBEFI $@"
	$(Q)grub-mkimage -O x86_64-efi -p /EFI/BOOT -o $@ $(GRUB_EFI_MODULES)

# One image for BIOS (stage 1/2) and UEFI (GRUB on the ESP): tools/mkimage.py.
$(B)/kestrel.img: $(B)/stage1.bin $(B)/stage2.bin $(B)/kestrel.elf $(INITRD) \
                  $(B)/bootx64.efi $(B)/boot/img_cmdline tools/mkimage.py
	@echo "  IMG     $@"
	$(Q)$(PYTHON) tools/mkimage.py --stage1 $(B)/stage1.bin --stage2 $(B)/stage2.bin \
	    --kernel $(B)/kestrel.elf $(if $(INITRD),--initrd $(INITRD)) \
	    --efi $(B)/bootx64.efi --cmdline "$$IMG_CMDLINE" -o $@

boot-cmdline-check:
.PHONY: boot-cmdline-check
# <<< boot

# ---------------------------------------------------------------- KVM probe
# A one-sector guest that tools/accel.py boots under KVM before trusting it.
$(B)/kvm_probe.o: tools/kvm_probe.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

$(B)/kvm_probe.bin: $(B)/kvm_probe.o
	$(Q)$(LD) -m elf_x86_64 -nostdlib -static --build-id=none -Ttext=0x7C00 -e probe_start \
	    --oformat binary -o $@ $<
	$(Q)test "$$(stat -c %s $@)" = 512 || { echo "error: $@ is not one sector"; rm -f $@; exit 1; }

# ---------------------------------------------------------------- GRUB ISO
$(B)/kestrel.iso: $(B)/kestrel.elf tools/grub.cfg $(INITRD)
	@echo "  ISO     $@"
	$(Q)rm -rf $(B)/iso && mkdir -p $(B)/iso/boot/grub
	$(Q)cp $(B)/kestrel.elf $(B)/iso/boot/kestrel.elf
	$(Q)cp tools/grub.cfg $(B)/iso/boot/grub/grub.cfg
	$(Q)$(if $(INITRD),cp $(INITRD) $(B)/iso/boot/initrd.tar)
	$(Q)grub-mkrescue -o $@ $(B)/iso >$(B)/grub-mkrescue.log 2>&1 || \
	    { cat $(B)/grub-mkrescue.log; exit 1; }

# ---------------------------------------------------------------- host tests
HOSTCFLAGS := -std=gnu11 -g -O1 -Iinclude -Itests/unit $(WARN) -MMD -MP \
              -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))

$(B)/unit/%: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $< -o $@

unit: $(UNIT_BIN)

# ---------------------------------------------------------------- workflow
setup:
	$(Q)bash tools/setup.sh --if-missing

BOOT ?= img
# auto: KVM only after tools/accel.py's probe guest passed under it; kvm; tcg.
ACCEL ?= auto
export ACCEL
SMP  ?= 4
MEM  ?= 512M
run: setup all
	$(Q)$(PYTHON) tools/qemu.py --boot $(BOOT) --smp $(SMP) --mem $(MEM) --interactive $(QEMU_ARGS)

debug: setup all
	$(Q)SMP=$(SMP) MEM=$(MEM) DEBUG_STOP=$(DEBUG_STOP) KESTREL_BUILD=$(B) bash tools/debug.sh $(BOOT)

test: setup all unit
	$(Q)$(PYTHON) tests/run_all.py

# The release kernel: same sources, debug checks off, its own object tree.
RELEASE_B := $(B)/release
release:
	$(Q)$(MAKE) --no-print-directory B=$(RELEASE_B) KDEBUG=0 $(RELEASE_B)/kestrel.img \
		$(RELEASE_B)/kvm_probe.bin

bench: setup all release
	$(Q)$(PYTHON) tests/boot/bench.py --release-build $(RELEASE_B) --debug-build $(B)

soak: setup all
	$(Q)$(PYTHON) tests/boot/soak.py
	$(Q)$(PYTHON) tests/boot/fuzz.py --seconds 600

# FUZZ_SECONDS (default 60) and FUZZ_SEED (default: random, printed) reach fuzz.py.
fuzz: setup all
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) $(PYTHON) tests/boot/fuzz.py

usb: all
	$(Q)bash tools/usb.sh "$(DEV)" "$(or $(IMAGE),$(B)/kestrel.img)" "$(YES)"

clean:
	rm -rf $(B)

.PHONY: all unit setup run debug test release bench soak fuzz usb clean
.DELETE_ON_ERROR:

# build/release has its own objects and dependency files (make release).
-include $(shell find $(B) -path $(B)/release -prune -o -name '*.d' -print 2>/dev/null)
