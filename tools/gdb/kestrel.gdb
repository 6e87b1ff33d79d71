# gdb setup for Kestrel under QEMU's gdbstub (used by tools/debug.sh,
# tests/boot/gdb_test.py and tests/boot/gdb_helpers_test.py; see
# docs/debugging.md). Load with the kernel ELF, from the tree's root:
#   gdb build/kestrel.elf -x tools/gdb/kestrel.gdb -ex 'kestrel-attach :1234 [kernel|ap|user:PROG]'

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

# The helpers (kestrel-ps, kestrel-cpus, kestrel-dmesg, kestrel-bt,
# kestrel-locks, kestrel-user, kestrel-stop, kestrel-attach; `help kestrel`)
# live in kestrel.py next to this file. gdb has no "directory of the script
# being sourced", so look for it from the working directory (tools/debug.sh
# and the tests run from the tree's root), then next to the sources the
# kernel ELF was built from.
python
import os
import gdb

def _kestrel_py():
    here = os.path.join("tools", "gdb", "kestrel.py")
    if os.path.isfile(here):
        return here
    sym = gdb.lookup_global_symbol("kernel_main")
    if sym is not None and sym.symtab is not None:
        root = os.path.dirname(os.path.dirname(sym.symtab.fullname()))
        path = os.path.join(root, here)
        if os.path.isfile(path):
            return path
    return None

_path = _kestrel_py()
if _path:
    gdb.execute("source " + _path)
else:
    print("kestrel.gdb: tools/gdb/kestrel.py not found; run gdb from the tree's root")
end

# kestrel-attach HOST:PORT [kernel|ap|user:PROG] (kestrel.py) connects and
# runs to the stop. Every stop is a hardware breakpoint (a debug register,
# compared against the linear address). A software breakpoint is an int3
# written into guest memory through the guest's page tables under KVM, and
# the higher-half address does not exist while the CPU runs from reset with
# paging off (TCG keeps software breakpoints itself, so only KVM would show
# the failure).
