# SPDX-License-Identifier: Apache-2.0
# Test guests, built from source into build/guests/: see guests/README.md.
# Freestanding gcc + GNU as/ld; every multiboot guest ships as ELF32 (QEMU's
# multiboot loader takes nothing else), the 64-bit one converted by objcopy.

GUEST_CC      := gcc
GUEST_LD      := ld
GUEST_OBJCOPY := objcopy
GUEST_OUT     := build/guests

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pic \
	-fno-pie -fno-stack-protector -nostdlib -fno-builtin -mno-red-zone \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-Iguests/lib -MMD -MP
GUEST_CFLAGS32 := $(GUEST_CFLAGS) -m32 -march=i686
GUEST_CFLAGS64 := $(GUEST_CFLAGS) -m64 -mcmodel=small
GUEST_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T guests/boot/guest.ld

GUEST_LIB_SRC := acpi.c exit.c fw_cfg.c lapic.c pci.c pic.c printf.c serial.c string.c
GUEST_LIB32 := $(GUEST_LIB_SRC:%.c=$(GUEST_OUT)/lib32/%.o) \
	$(GUEST_OUT)/lib32/idt.o $(GUEST_OUT)/lib32/isr.o
GUEST_LIB64 := $(GUEST_LIB_SRC:%.c=$(GUEST_OUT)/lib64/%.o)

# Multiboot ELF32 guests in protected mode: name -> objects besides the library.
GUEST32 := protmode smp uart-echo fwcfg acpi portbench timer virtio ticker tasks sysarch
GUEST_OBJS_protmode  := protmode/protmode.o
GUEST_OBJS_smp       := smp/smp.o smp/nmi.o smp/trampoline.o
GUEST_OBJS_uart-echo := uart-echo/uart_echo.o
GUEST_OBJS_fwcfg     := fwcfg/fwcfg.o
GUEST_OBJS_acpi      := acpi/acpi.o
GUEST_OBJS_portbench := portbench/portbench.o
GUEST_OBJS_timer     := timer/timer.o
GUEST_OBJS_ticker    := ticker/ticker.o
GUEST_OBJS_tasks     := tasks/tasks.o tasks/tasks_asm.o
GUEST_OBJS_sysarch   := sysarch/sysarch.o sysarch/sysarch_asm.o
GUEST_OBJS_virtio    := virtio/virtio.o virtio/vdev.o virtio/garbage.o virtio/net.o \
	virtio/pci_garbage.o virtio/msix.o virtio/packed.o virtio/intx.o

GUEST_BIN := $(GUEST32:%=$(GUEST_OUT)/%.elf) $(GUEST_OUT)/longmode.elf $(GUEST_OUT)/usermode.elf \
	$(GUEST_OUT)/emubench.elf $(GUEST_OUT)/sysarch64.elf \
	$(GUEST_OUT)/realmode.bin $(GUEST_OUT)/triple.elf $(GUEST_OUT)/protmode-aout.bin

.PHONY: guests
guests: $(GUEST_BIN)

$(GUEST_OUT)/lib32/%.o: guests/lib/%.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS32) -c $< -o $@

$(GUEST_OUT)/lib32/%.o: guests/lib/%.S
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS32) -c $< -o $@

$(GUEST_OUT)/lib64/%.o: guests/lib/%.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS64) -c $< -o $@

$(GUEST_OUT)/obj32/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS32) -c $< -o $@

$(GUEST_OUT)/obj32/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS32) -c $< -o $@

$(GUEST_OUT)/obj64/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS64) -c $< -o $@

$(GUEST_OUT)/obj64/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS64) -c $< -o $@

$(GUEST_OUT)/obj32/boot/entry32-aout.o: guests/boot/entry32.S
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS32) -DMB_AOUT_KLUDGE -c $< -o $@

$(GUEST_OUT)/lib32.a: $(GUEST_LIB32)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

$(GUEST_OUT)/lib64.a: $(GUEST_LIB64)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

# $(1): guest name.  The entry object comes first so the multiboot header
# lands at the start of the image, well inside the first 8 KiB.
define guest32_rule
$(GUEST_OUT)/$(1).elf: $(GUEST_OUT)/obj32/boot/entry32.o \
		$(addprefix $(GUEST_OUT)/obj32/,$(GUEST_OBJS_$(1))) $(GUEST_OUT)/lib32.a \
		guests/boot/guest.ld
	$(msg) LD $$@
	$(Q)$(GUEST_LD) -m elf_i386 $(GUEST_LDFLAGS) -o $$@ $$(filter %.o %.a,$$^)
endef
$(foreach g,$(GUEST32),$(eval $(call guest32_rule,$(g))))

# The same protmode guest as a flat image with the a.out kludge header.
$(GUEST_OUT)/protmode-aout.elf: $(GUEST_OUT)/obj32/boot/entry32-aout.o \
		$(GUEST_OUT)/obj32/protmode/protmode.o $(GUEST_OUT)/lib32.a guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_i386 $(GUEST_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(GUEST_OUT)/protmode-aout.bin: $(GUEST_OUT)/protmode-aout.elf
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O binary -j .text -j .rodata -j .data $< $@

$(GUEST_OUT)/longmode.elf64: $(GUEST_OUT)/obj64/boot/entry64.o \
		$(GUEST_OUT)/obj64/longmode/longmode.o $(GUEST_OUT)/lib64.a guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(GUEST_OUT)/longmode.elf: $(GUEST_OUT)/longmode.elf64
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(GUEST_OUT)/usermode.elf64: $(GUEST_OUT)/obj64/boot/entry64.o \
		$(GUEST_OUT)/obj64/usermode/usermode.o $(GUEST_OUT)/lib64.a guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(GUEST_OUT)/usermode.elf: $(GUEST_OUT)/usermode.elf64
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(GUEST_OUT)/emubench.elf64: $(GUEST_OUT)/obj64/boot/entry64.o \
		$(GUEST_OUT)/obj64/emubench/emubench.o $(GUEST_OUT)/lib64.a guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(GUEST_OUT)/emubench.elf: $(GUEST_OUT)/emubench.elf64
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(GUEST_OUT)/sysarch64.elf64: $(GUEST_OUT)/obj64/boot/entry64.o \
		$(GUEST_OUT)/obj64/sysarch/sysarch64.o $(GUEST_OUT)/lib64.a guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(GUEST_OUT)/sysarch64.elf: $(GUEST_OUT)/sysarch64.elf64
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O elf32-i386 $< $@

$(GUEST_OUT)/triple.elf: $(GUEST_OUT)/obj32/triple/triple.o guests/boot/guest.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_i386 $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

# A 512-byte boot sector: runs from --flat in vmon and from a disk in QEMU.
$(GUEST_OUT)/realmode.bin: $(GUEST_OUT)/obj32/realmode/realmode.o guests/realmode/realmode.ld
	$(msg) LD $@
	$(Q)$(GUEST_LD) -m elf_i386 -nostdlib -T guests/realmode/realmode.ld -o $@.elf $<
	$(msg) OBJCOPY $@
	$(Q)$(GUEST_OBJCOPY) -O binary $@.elf $@
