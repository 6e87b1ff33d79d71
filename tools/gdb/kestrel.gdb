# gdb setup for Kestrel under QEMU's gdbstub (used by tools/debug.sh and
# tests/boot/gdb_test.py). Load with the kernel ELF:
#   gdb build/kestrel.elf -x tools/gdb/kestrel.gdb -ex 'kestrel-attach :1234'

set pagination off
set confirm off
set print pretty on
set disassembly-flavor intel
set history save off

# QEMU's x86_64 gdbstub always sends the 64-bit register set, even while
# the CPU is still in real or protected mode. gdb normally takes x86-64
# from the ELF, but if it settles on i386/i8086 (no file yet, a 32-bit
# stage's symbols loaded, an old gdb) it rejects the packet ("'g' packet
# reply is too long") or misreads registers after the switch to long mode.
# Fixing the architecture before connecting rules that out.
set architecture i386:x86-64

# gdb waits for QEMU's listening socket instead of failing at once when it
# starts before QEMU is ready.
set tcp auto-retry on
set tcp connect-timeout 30

# kestrel-attach HOST:PORT -- connect and run to kernel_main.
# A hardware breakpoint (a debug register, compared against the linear
# address). A software breakpoint is an int3 written into guest memory
# through the guest's page tables under KVM, and the higher-half address
# does not exist while the CPU runs from reset with paging off (TCG keeps
# software breakpoints itself, so only KVM would show the failure).
define kestrel-attach
  target remote $arg0
  hbreak kernel_main
  continue
end
document kestrel-attach
Connect to QEMU's gdbstub at HOST:PORT (e.g. :1234) and run to kernel_main.
end

# kestrel-cpus -- one gdb thread per QEMU vCPU.
define kestrel-cpus
  info threads
end
document kestrel-cpus
List the virtual CPUs (gdb threads); `thread N` switches to CPU N-1.
end
