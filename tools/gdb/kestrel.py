"""gdb helpers for Kestrel (docs/debugging.md), loaded by tools/gdb/kestrel.gdb.

Everything is read through gdb's view of the kernel's debug information:
types, field names and static variables by name ('sched/sched.c'::runqueues),
never hand-copied offsets, so a changed struct keeps working or fails with a
one-line error naming the missing field. The one layout taken from code
rather than types, what context_switch pushes, is read from its disassembly.

Commands (`help kestrel`): kestrel-ps, kestrel-cpus, kestrel-dmesg,
kestrel-bt, kestrel-locks, kestrel-user, kestrel-stop, kestrel-attach; each
is also `kestrel <name>`.
"""

import os
import re
import struct

import gdb

KERNEL_HALF = 0xFFFF800000000000        # addresses from here on are the kernel's
USER_END = 0x0000800000000000           # user addresses lie below
CR3_ADDR_MASK = 0x000FFFFFFFFFF000      # CR3 minus PCID / flag bits: the PML4's frame
HLT_OPCODE = 0xF4
RPL_MASK = 3                            # CS low bits: the privilege level
MAX_FRAMES = 64                         # a frame chain longer than this is corrupt
MAX_LIST = 4096                         # longest task list walked before giving up

IDLE_FUNCS = {"sched_idle_loop", "irq_enable_and_halt"}
# Functions a sleeping task passes through on its way to context_switch; the
# first frame outside them is where it waits (its "wchan").
SCHED_FUNCS = {"context_switch", "switch_to", "schedule", "sched_yield", "wq_sleep_locked",
               "sleep_ns", "sleep_ms", "mutex_lock", "sem_down", "task_trampoline"}


class KestrelError(gdb.GdbError):
    """Printed by gdb as one line, without a Python traceback."""


def _one_line(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def ev(expr):
    """gdb.parse_and_eval with a one-line error naming what is missing."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise KestrelError(f"kestrel: cannot evaluate {expr}: {_one_line(e)} "
                           f"(not the Kestrel kernel ELF, or a field was renamed?)") from None


def field(v, name):
    try:
        return v[name]
    except gdb.error as e:
        raise KestrelError(f"kestrel: {v.type} has no field '{name}' ({_one_line(e)}); "
                           f"update tools/gdb/kestrel.py") from None


def u64(v):
    return int(v.cast(gdb.lookup_type("unsigned long"))) & ((1 << 64) - 1) \
        if v.type.code == gdb.TYPE_CODE_PTR else int(v) & ((1 << 64) - 1)


def cstr(v):
    try:
        return v.string(errors="replace")
    except gdb.MemoryError:
        return "?"


def read_u64(addr):
    return struct.unpack("<Q", bytes(gdb.selected_inferior().read_memory(addr, 8)))[0]


def require_kernel():
    """One line instead of a traceback when the kernel's structures do not
    exist yet: at reset, in the loader (paging off, so the higher half is
    unreadable) or before percpu_init_bsp() filled in the boot CPU."""
    cpus = ev("cpus")
    try:
        self_ptr = u64(field(cpus[0], "self"))
    except gdb.MemoryError:
        pc = _pc_or_none()
        where = f" (pc {pc:#x})" if pc is not None else ""
        raise KestrelError(f"kestrel: kernel structures not readable yet{where}: the CPU is at reset "
                           f"or in the loader, before paging maps the kernel; continue to "
                           f"kernel_main first") from None
    if self_ptr != u64(cpus[0].address):
        raise KestrelError("kestrel: kernel structures not set up yet (cpus[0].self is not "
                           "&cpus[0]: before percpu_init_bsp()); continue to kernel_main first")


def require_scheduler():
    require_kernel()
    if u64(field(ev("cpus")[0], "current")) == 0:
        raise KestrelError("kestrel: the scheduler is not running yet (cpus[0].current is NULL: "
                           "before sched_init_cpu()); continue further")


def _pc_or_none():
    try:
        return u64(gdb.selected_frame().read_register("pc"))
    except gdb.error:
        return None


def ncpus():
    """CPUs to show: ncpus (an AP gets its id, and is counted, once it has
    arrived in ap_entry(); it may still be setting itself up), and beyond
    it any slot whose self is set."""
    n = int(ev("ncpus"))
    cpus = ev("cpus")
    lo, hi = cpus.type.range()
    while n <= hi and u64(field(cpus[n], "self")) == u64(cpus[n].address):
        n += 1
    return n


# ------------------------------------------------------------------ symbols

def symbolize(pc, is_return=True):
    """'func+0x12 (inlined into caller) at file.c:123' for a code address; a
    return address is looked up one byte back, inside its call."""
    look = pc - 1 if is_return and pc else pc
    names = []
    try:
        block = gdb.block_for_pc(look)
    except RuntimeError:
        block = None
    while block is not None:
        if block.function is not None:
            names.append(block.function.print_name)
        block = block.superblock
    name = names[0] if names else None
    if len(names) > 1:
        name += " (inlined into " + " <- ".join(names[1:]) + ")"
    if name is None:
        try:
            text = gdb.execute(f"info symbol {look:#x}", to_string=True).strip()
            if not text.startswith("No symbol"):
                name = text.split(" in section")[0].replace(" + ", "+")
        except gdb.error:
            pass
    sal = gdb.find_pc_line(look)
    where = f" at {sal.symtab.filename}:{sal.line}" if sal.symtab is not None and sal.line else ""
    return f"{name or '??'}{where}"


def function_name(pc, is_return=True):
    try:
        block = gdb.block_for_pc(pc - 1 if is_return else pc)
    except RuntimeError:
        return None
    while block is not None:
        if block.function is not None:
            return block.function.name
        block = block.superblock
    return None


def static_var(filename, name):
    """A file-static variable, e.g. static_var('sched/sched.c', 'runqueues')."""
    return ev(f"'{filename}'::{name}")


def globals_of_type(type_regex):
    """(file, name) of every global or static variable whose type matches
    type_regex, from `info variables -t` (gdb has no Python API for it)."""
    try:
        text = gdb.execute(f"info variables -q -t {type_regex}", to_string=True)
    except gdb.error:
        return []
    found, current = [], None
    for line in text.splitlines():
        m = re.match(r"^File (.*):$", line)
        if m:
            current = m.group(1)
            continue
        # "34:\tstatic struct wait_queue console_wq;"; arrays are left out.
        m = re.match(r"^\d+:\s+.*?(\w+)(\[\d*\])?;$", line)
        if current and m and not m.group(2):
            found.append((current, m.group(1)))
    return found


# ------------------------------------------------------------------ tasks

def task_ptr_type():
    return gdb.lookup_type("struct task").pointer()


def list_chain(head, link):
    """Tasks on a singly linked list through field `link`."""
    out, t = [], head
    while u64(t) and len(out) < MAX_LIST:
        out.append(t)
        t = field(t.dereference(), link)
    return out


def wait_queues():
    """(label, struct wait_queue value) for every statically allocated wait
    queue, mutex and semaphore, plus the sleep list as a pseudo-queue."""
    out = []
    for type_regex, member in (("'^struct wait_queue$'", None), ("'^struct mutex$'", "wq"),
                               ("'^struct semaphore$'", "wq")):
        for filename, name in globals_of_type(type_regex):
            try:
                v = static_var(filename, name)
                wq = field(v, member) if member else v
                out.append((cstr(field(field(wq, "lock"), "name")), wq))
            except (KestrelError, gdb.error):
                continue
    return out


class TaskSet:
    """Every task the kernel can reach: idle tasks, what each CPU runs, the
    run queues, the sleep list, static wait queues, process thread slots and
    the reaper's list. Kernel threads sleeping on a wait queue that is not a
    static variable cannot be found (the kernel keeps no list of all tasks)."""

    def __init__(self):
        require_scheduler()
        self.tasks = {}                 # address -> struct task * value
        self.waits = {}                 # address -> where it is queued
        self.order = []
        n = ncpus()
        cpus = ev("cpus")
        idle = static_var("sched/sched.c", "idle_tasks")
        for i in range(n):
            if bool(field(idle[i], "is_idle")):     # else that CPU has not started yet
                self.add(idle[i].address)
        for i in range(n):
            self.add(field(cpus[i], "current"))
        rqs = static_var("sched/sched.c", "runqueues")
        for i in range(n):
            for t in list_chain(field(rqs[i], "head"), "rq_next"):
                self.add(t, f"runqueue {i}")
        for t in list_chain(static_var("sched/task.c", "sleep_list"), "wq_next"):
            self.add(t, "sleep_list (timed)")
        for label, wq in wait_queues():
            for t in list_chain(field(wq, "head"), "wq_next"):
                self.add(t, f"wait queue '{label}'")
        for p in processes():
            for slot in thread_slots(p):
                self.add(field(slot, "task"))
        for t in list_chain(static_var("sched/proc.c", "reap_list"), "reap_next"):
            self.add(t, "reap_list")

    def add(self, t, where=None):
        t = t.cast(task_ptr_type())
        addr = u64(t)
        if not addr:
            return
        if addr not in self.tasks:
            self.tasks[addr] = t
            self.order.append(addr)
        if where and addr not in self.waits:
            self.waits[addr] = where

    def __iter__(self):
        return (self.tasks[a] for a in self.order)

    def find(self, spec):
        """A task by tid, by name (idle/1) or by address (0x...)."""
        for t in self:
            d = t.dereference()
            if spec.startswith("0x") and u64(t) == int(spec, 16):
                return t
            if spec.isdigit() and int(d["id"]) == int(spec) and not bool(d["is_idle"]):
                return t
            if cstr(d["name"]) == spec:
                return t
        raise KestrelError(f"kestrel: no task '{spec}' (kestrel-ps lists them; idle tasks by name, "
                           f"e.g. idle/0)")


def processes():
    procs = static_var("sched/proc.c", "procs")
    lo, hi = procs.type.range()
    out = []
    for i in range(lo, hi + 1):
        p = procs[i]
        if u64(p):
            out.append(p.dereference())
    return out


def thread_slots(p):
    slots = field(p, "threads")
    lo, hi = slots.type.range()
    return [slots[i] for i in range(lo, hi + 1) if int(slots[i]["tid"]) and u64(slots[i]["task"])]


def enum_name(v, prefix):
    s = str(v)
    return s[len(prefix):].lower() if s.startswith(prefix) else s


def task_cpu_running(t):
    """The CPU index whose current task is t, else None."""
    cpus = ev("cpus")
    for i in range(ncpus()):
        if u64(field(cpus[i], "current")) == u64(t):
            return i
    return None


# ------------------------------------------------------------------ vCPUs

def vcpu_threads():
    """kernel CPU index -> gdb thread, matched through the GS base: the
    kernel's GS base is &cpus[i] in ring 0, and in KERNEL_GS_BASE while ring
    3 runs (swapgs). QEMU numbers its threads by its own CPU index, which
    need not be the kernel's dense id."""
    cpus = ev("cpus")
    base = u64(cpus[0].address)
    size = cpus[0].type.sizeof
    inf = gdb.selected_inferior()
    saved = gdb.selected_thread()
    out = {}
    try:
        for th in inf.threads():
            th.switch()
            frame = gdb.newest_frame()
            for reg in ("gs_base", "k_gs_base"):
                try:
                    gs = u64(frame.read_register(reg))
                except (gdb.error, ValueError):
                    continue
                if base <= gs < base + size * ncpus() and (gs - base) % size == 0:
                    out[(gs - base) // size] = th
                    break
    finally:
        if saved is not None:
            saved.switch()
    return out


def thread_regs(th, names):
    saved = gdb.selected_thread()
    try:
        th.switch()
        frame = gdb.newest_frame()
        return {n: u64(frame.read_register(n)) for n in names}
    finally:
        if saved is not None:
            saved.switch()


def vcpu_halted(th, pc):
    """QEMU says '[halted ]' in the thread's details; else look for hlt just before pc."""
    details = getattr(th, "details", None) or ""
    if "halted" in details:
        return True
    if "running" in details:
        return False
    try:
        return bytes(gdb.selected_inferior().read_memory(pc - 1, 1))[0] == HLT_OPCODE
    except gdb.MemoryError:
        return False


# ------------------------------------------------------------------ backtraces

_switch_layout = None


def switch_layout():
    """(words context_switch pushes, index of the saved rbp among them),
    counted from its disassembly: the pushes before it stores rsp into
    saved_rsp. Then saved_rsp + 8 * words is the return address."""
    global _switch_layout
    if _switch_layout is None:
        sym = gdb.lookup_global_symbol("context_switch") or gdb.lookup_static_symbol("context_switch")
        start = u64(sym.value().address) if sym else u64(ev("&context_switch"))
        arch = gdb.selected_frame().architecture() if gdb.selected_thread() else None
        if arch is None:
            raise KestrelError("kestrel: no architecture to disassemble context_switch")
        pushes = []
        for insn in arch.disassemble(start, count=16):
            m = re.match(r"push[q]?\s+%?(\w+)", insn["asm"].strip())
            if not m:
                if "rsp" not in insn["asm"]:
                    raise KestrelError(f"kestrel: context_switch starts in a way kestrel-bt does not "
                                       f"know ({insn['asm']}); update tools/gdb/kestrel.py")
                break
            pushes.append(m.group(1))
        if "rbp" not in pushes:
            raise KestrelError("kestrel: context_switch does not save rbp; cannot walk frames")
        # The stack grows down: the last push is at saved_rsp, the first just below the return address.
        words = len(pushes)
        _switch_layout = (words, words - 1 - pushes.index("rbp"))
    return _switch_layout


def walk_frames(pc, rbp, stack_lo, stack_hi, first_is_return, user_readable):
    """[(pc, is_return, note)] along the rbp chain: each frame holds the
    caller's rbp at [rbp] and the return address at [rbp + 8]. Kernel frames
    must stay inside [stack_lo, stack_hi); the syscall entry's fake frame
    hands over to user frames, walked only while their memory is readable."""
    frames = [(pc, first_is_return, "")]
    for _ in range(MAX_FRAMES):
        if not rbp:
            break
        in_user = rbp < USER_END
        if in_user and not user_readable:
            break
        if not in_user and not (stack_lo <= rbp < stack_hi):
            frames.append((0, False, f"frame pointer {rbp:#x} leaves the stack; stopping"))
            break
        try:
            ret = read_u64(rbp + 8)
            next_rbp = read_u64(rbp)
        except gdb.MemoryError:
            frames.append((0, False, f"frame at {rbp:#x} not readable; stopping"))
            break
        if not ret:
            break
        frames.append((ret, True, ""))
        if ret < USER_END and not user_readable:
            break
        if next_rbp and not in_user and next_rbp >= KERNEL_HALF and next_rbp <= rbp:
            frames.append((0, False, "frame chain goes backwards; stopping"))
            break
        rbp = next_rbp
    return frames


def task_frames(t):
    """Frames of task t, from its saved context if switched out, from its
    CPU's registers if it is running."""
    d = t.dereference()
    top = u64(field(d, "kstack_top"))
    cpu = task_cpu_running(t)
    note = ""
    if cpu is not None and bool(field(d, "on_cpu")):
        th = vcpu_threads().get(cpu)
        if th is None:
            raise KestrelError(f"kestrel: '{cstr(d['name'])}' runs on CPU {cpu}, which no gdb thread "
                               f"matches")
        regs = thread_regs(th, ("pc", "rbp", "rsp", "cs"))
        note = f"running on CPU {cpu} (gdb thread {th.num})"
        if regs["cs"] & RPL_MASK:
            note += ", in user mode"
        # gdb reads user memory through the selected vCPU's page tables.
        readable = th == gdb.selected_thread()
        return note, walk_frames(regs["pc"], regs["rbp"], regs["rsp"], top, False, readable)
    words, rbp_index = switch_layout()
    sp = u64(field(d, "saved_rsp"))
    rbp = read_u64(sp + 8 * rbp_index)
    pc = read_u64(sp + 8 * words)
    note = f"switched out, saved_rsp {sp:#x}"
    return note, walk_frames(pc, rbp, sp, top, True, False)


def format_frames(frames, user_symbols):
    """user_symbols: the program whose symbols kestrel-user loaded is this
    task's, so user addresses may be named (another program's names at the
    same addresses would be wrong)."""
    lines = []
    for i, (pc, is_return, note) in enumerate(frames):
        if not pc:
            lines.append(f"   ({note})")
        elif pc >= KERNEL_HALF:
            lines.append(f"#{i:<2} {pc:#018x} in {symbolize(pc, is_return)}")
        elif user_symbols:
            lines.append(f"#{i:<2} {pc:#018x} in {symbolize(pc, is_return)} [user]")
        else:
            lines.append(f"#{i:<2} {pc:#018x} [user; kestrel-user PID loads its symbols]")
    return lines


def wchan(frames):
    for pc, is_return, _ in frames:
        name = function_name(pc, is_return) if pc else None
        if name and name not in SCHED_FUNCS:
            return name
    return "-"


# ------------------------------------------------------------------ commands

class Kestrel(gdb.Command):
    """Kestrel kernel helpers (tools/gdb/kestrel.py, docs/debugging.md).

kestrel-ps                  processes and threads: pid, tid, state, CPU, name, where it waits
kestrel-cpus                per CPU: APIC id, current task, run-queue length, idle/halted
kestrel-dmesg [N]           the kernel log buffer (the last N lines)
kestrel-bt TID|NAME|0xADDR  backtrace of a task, from its saved context if switched out
kestrel-locks               spinlocks held now, with owner CPU and the site that took them
kestrel-user PID [FILE]     load that process's program symbols (build/user/bin/NAME)
kestrel-stop kernel|ap|user:PROG   breakpoint for a boot stage (make debug DEBUG_STOP=)
kestrel-attach HOST:PORT [STOP]    connect, set the stop (default kernel), continue

Each is also `kestrel NAME ...` (e.g. `kestrel ps`)."""

    def __init__(self):
        super().__init__("kestrel", gdb.COMMAND_USER, prefix=True)


class Sub(gdb.Command):
    """Registered twice: as kestrel-NAME and as the subcommand kestrel NAME."""
    NAME = None

    def __init__(self, full):
        super().__init__(full, gdb.COMMAND_USER)

    @classmethod
    def register(cls):
        cls(f"kestrel-{cls.NAME}")
        cls(f"kestrel {cls.NAME}")

    def invoke(self, arg, from_tty):
        try:
            self.run(gdb.string_to_argv(arg))
        except KestrelError:
            raise
        except gdb.MemoryError as e:
            raise KestrelError(f"kestrel-{self.NAME}: memory not readable ({_one_line(e)}); "
                               f"is the kernel running yet?") from None
        except gdb.error as e:
            raise KestrelError(f"kestrel-{self.NAME}: {_one_line(e)}") from None
        except (ValueError, TypeError, OSError) as e:
            raise KestrelError(f"kestrel-{self.NAME}: {type(e).__name__}: {_one_line(e)}") from None


class Ps(Sub):
    """List processes and threads: pid, tid, state, CPU, name, where each waits.
Usage: kestrel-ps
PID is - for kernel threads and TID - for the idle tasks; CPU is the CPU a
task runs or last ran on. For a sleeping task WAITS names the queue it is
on and the first function outside the scheduler on its stack."""
    NAME = "ps"

    def run(self, argv):
        ts = TaskSet()
        rows = []
        for t in ts:
            d = t.dereference()
            proc = field(d, "proc")
            pid = int(proc.dereference()["pid"]) if u64(proc) else None
            state = enum_name(field(d, "state"), "TASK_")
            wait = ts.waits.get(u64(t), "")
            if state == "sleeping":
                try:
                    where = wchan(task_frames(t)[1])
                except (KestrelError, gdb.error):
                    where = "?"
                wait = f"{wait or '?'} in {where}"
            rows.append((pid if pid is not None else -1, int(d["id"]), pid, state,
                         int(field(d, "cpu")), cstr(d["name"]),
                         cstr(proc.dereference()["name"]) if u64(proc) else "-", wait,
                         bool(d["is_idle"])))
        print(f"{'PID':>5} {'TID':>5} {'STATE':<9} {'CPU':>3}  {'TASK':<16} {'PROCESS':<12} WAITS")
        for _, tid, pid, state, cpu, name, pname, wait, idle in sorted(rows, key=lambda r: r[:2] + r[5:6]):
            print(f"{'-' if pid is None else pid:>5} {'-' if idle else tid:>5} {state:<9} {cpu:>3}  "
                  f"{name:<16} {pname:<12} {wait}".rstrip())
        for p in processes():
            if not thread_slots(p):
                print(f"{int(p['pid']):>5} {'-':>5} {enum_name(field(p, 'state'), 'PROC_'):<9} "
                      f"{'-':>3}  {'-':<16} {cstr(p['name']):<12}")


class Cpus(Sub):
    """List CPUs: APIC id, current task, run-queue length, idle or halted.
Usage: kestrel-cpus
STATE is what the vCPU does now: halted (in hlt), idle (the idle task, not
halted), kernel or user; GDB-THREAD is the gdb thread of that vCPU
(`thread N`), matched through its GS base."""
    NAME = "cpus"

    def run(self, argv):
        require_kernel()
        cpus = ev("cpus")
        threads = vcpu_threads()
        rqs = static_var("sched/sched.c", "runqueues")
        print(f"{'CPU':>3} {'APIC':>4} {'ONLINE':<6} {'STATE':<8} {'CURRENT':<20} {'RUNQ':>4}  GDB-THREAD")
        for i in range(ncpus()):
            c = cpus[i]
            cur = field(c, "current")
            cur_name = "-"
            is_idle = False
            if u64(cur):
                d = cur.dereference()
                is_idle = bool(d["is_idle"])
                cur_name = cstr(d["name"]) + ("" if is_idle else f" (tid {int(d['id'])})")
            th = threads.get(i)
            if th is None:
                state = "unknown" if bool(field(c, "online")) else "offline"
            else:
                regs = thread_regs(th, ("pc", "cs"))
                if vcpu_halted(th, regs["pc"]):
                    state = "halted"
                elif regs["cs"] & RPL_MASK:
                    state = "user"
                else:
                    # The boot CPU runs kernel_main as its idle task until the
                    # scheduler takes over: idle only inside the idle loop.
                    in_loop = function_name(regs["pc"], False) in IDLE_FUNCS
                    state = "idle" if is_idle and in_loop else "kernel"
            print(f"{i:>3} {int(field(c, 'apic_id')):>4} {'yes' if bool(field(c, 'online')) else 'no':<6} "
                  f"{state:<8} {cur_name:<20} {int(field(rqs[i], 'nr_ready')):>4}  "
                  f"{th.num if th else '-'}")
        print(f"{int(ev('ncpus_online'))} of {ncpus()} CPUs online")


class Dmesg(Sub):
    """Print the kernel log buffer, oldest line first.
Usage: kestrel-dmesg [N]
Reads klog_buf and klog_head (kernel/klog.c); with N, only the last N lines."""
    NAME = "dmesg"

    def run(self, argv):
        require_kernel()
        buf = ev("klog_buf")
        head = int(ev("klog_head"))
        size = buf.type.sizeof
        data = bytes(gdb.selected_inferior().read_memory(u64(buf.address), size))
        oldest = max(0, head - size)
        text = bytes(data[p % size] for p in range(oldest, head)).decode("utf-8", errors="replace")
        if oldest > 0:                  # the first line lost its beginning
            text = text.split("\n", 1)[1] if "\n" in text else ""
        lines = text.splitlines()
        if argv:
            if len(argv) > 1 or not argv[0].isdigit() or int(argv[0]) == 0:
                raise KestrelError("usage: kestrel-dmesg [N], N > 0 lines")
            lines = lines[-int(argv[0]):]
        if not lines:
            print("kestrel-dmesg: the log is empty")
        for line in lines:
            print(line)


class Bt(Sub):
    """Backtrace of a task that may not be running.
Usage: kestrel-bt TID|NAME|0xADDR
A switched-out task is walked along its frame pointers from the rbp and
return address context_switch saved on its stack; a running one from its
vCPU's registers. User frames are named after kestrel-user PID."""
    NAME = "bt"

    def run(self, argv):
        if len(argv) != 1:
            raise KestrelError("usage: kestrel-bt TID|NAME|0xADDR")
        t = TaskSet().find(argv[0])
        d = t.dereference()
        note, frames = task_frames(t)
        proc = field(d, "proc")
        prog = cstr(proc.dereference()["name"]) if u64(proc) else None
        print(f"task {int(d['id'])} '{cstr(d['name'])}' ({enum_name(d['state'], 'TASK_')}, "
              f"{note}):")
        for line in format_frames(frames, prog is not None and prog == _user_loaded_prog()):
            print(line)


class Locks(Sub):
    """List the spinlocks held now, with owner CPU and the site that took them.
Usage: kestrel-locks
Two sources: the per-CPU held-lock records of the lock-order check
(smp/spinlock.c 'held'; levelled locks only), and a scan of known lock
objects for any that is locked: static spinlock_t, wait queue, mutex and
semaphore variables, the run queues, and the locks of every task, process
and address space kestrel-ps finds. Also the raw console lock and each
CPU's lock_depth, which counts every spinlock held."""
    NAME = "locks"

    def run(self, argv):
        require_kernel()
        n = ncpus()
        cpus = ev("cpus")
        held = static_var("smp/spinlock.c", "held")
        found = {}                      # lock address -> (spinlock_t value, how found)
        recorded = set()
        for i in range(n):
            h = held[i]
            for k in range(int(field(h, "count"))):
                lp = field(h, "lock")[k]
                recorded.add(u64(lp))
                found.setdefault(u64(lp), (lp.dereference(), f"held[{i}]"))
        for label, lock in self.known_locks():
            if u64(lock.address) not in found and int(field(lock, "locked")):
                found[u64(lock.address)] = (lock, label)
        print(f"{'LOCK':<18} {'NAME':<16} {'OWNER':>5}  {'TAKEN AT':<44} FOUND VIA")
        for addr, (lock, label) in sorted(found.items()):
            owner = int(field(lock, "owner_cpu"))
            pc = u64(field(lock, "owner_pc"))
            state = "" if int(field(lock, "locked")) else " (free now)"
            print(f"{addr:#018x} {cstr(field(lock, 'name')):<16} "
                  f"{'cpu' + str(owner) if owner >= 0 else '?':>5}  "
                  f"{symbolize(pc) if pc else '?':<44} {label}{state}")
        if not found:
            print("no spinlock held")
        try:
            if int(static_var("kernel/printk.c", "console_lock")):
                print("console lock (raw, kernel/printk.c): held")
        except KestrelError:
            pass
        depths = [f"cpu{i} {int(field(cpus[i], 'lock_depth'))}" for i in range(n)]
        print("lock_depth (spinlocks each CPU holds): " + ", ".join(depths))

    @staticmethod
    def known_locks():
        for filename, name in globals_of_type("'^spinlock_t$'"):
            try:
                yield f"{filename}::{name}", static_var(filename, name)
            except KestrelError:
                continue
        for label, wq in wait_queues():
            yield f"wait queue '{label}'", field(wq, "lock")
        rqs = static_var("sched/sched.c", "runqueues")
        for i in range(ncpus()):
            yield f"runqueues[{i}]", field(rqs[i], "lock")
        yield "kernel_space", field(ev("kernel_space"), "lock")
        try:
            ts = TaskSet()
        except KestrelError:
            return
        for t in ts:
            yield f"task {int(t['id'])} '{cstr(t['name'])}'", field(t.dereference(), "lock")
        for p in processes():
            yield f"process {int(p['pid'])} '{cstr(p['name'])}'", field(p, "lock")
            vs = field(p, "vs")
            if u64(vs):
                yield f"process {int(p['pid'])} address space", field(vs.dereference(), "lock")


# ------------------------------------------------------------------ user programs

def build_dir():
    """The kernel ELF's directory (build/, or B=... of an out-of-tree build)."""
    elf = gdb.current_progspace().filename
    if not elf:
        raise KestrelError("kestrel: no kernel ELF loaded (gdb build/kestrel.elf)")
    return os.path.dirname(os.path.abspath(elf))


def user_elf(name):
    return os.path.join(build_dir(), "user", "bin", name)


def elf_info(path):
    """(load address of the first PT_LOAD, has .debug_line, {symbol: value})
    from a static ELF64, read here so nothing depends on gdb's state."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise KestrelError(f"kestrel: {path} is not an ELF64 file")
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
    load = None
    for i in range(phnum):
        p_type, _, _, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == 1 and load is None:        # PT_LOAD
            load = p_vaddr
    sections = []
    for i in range(shnum):
        sh = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections.append(sh)
    strtab_off = sections[shstrndx][4] if shstrndx < len(sections) else 0

    def name_at(off, base):
        end = data.index(b"\0", base + off)
        return data[base + off:end].decode(errors="replace")

    names = [name_at(s[0], strtab_off) for s in sections]
    syms = {}
    for s, nm in zip(sections, names):
        if s[1] == 2:                           # SHT_SYMTAB
            link = sections[s[6]][4]
            for k in range(s[5] // 24):
                st_name, _, _, _, st_value, _ = struct.unpack_from("<IBBHQQ", data, s[4] + k * 24)
                if st_name:
                    syms[name_at(st_name, link)] = st_value
    return load, ".debug_line" in names, syms


_user_loaded = {}                       # path -> load address, for remove-symbol-file


def _user_loaded_prog():
    """The program name whose symbols are loaded (the file's base name), or None."""
    return os.path.basename(next(iter(_user_loaded))) if _user_loaded else None


def load_user_symbols(path):
    if not os.path.isfile(path):
        raise KestrelError(f"kestrel: {path} does not exist (built with make B=...?)")
    load, has_lines, syms = elf_info(path)
    for old in list(_user_loaded):
        gdb.execute(f"remove-symbol-file {old}", to_string=True)
        del _user_loaded[old]
    # ET_EXEC at fixed addresses: the kernel maps each segment at its own
    # p_vaddr (sched/user.c), so the file's section addresses are the load
    # addresses and no offset is given.
    gdb.execute(f"add-symbol-file {path}", to_string=True)
    _user_loaded[path] = load
    return load, has_lines, syms


class User(Sub):
    """Load the symbols of a process's program, so user code shows with source.
Usage: kestrel-user PID [FILE]
Reads <build>/user/bin/NAME (or FILE), a static ELF linked at 0x400000,
and adds its symbols at its load address, replacing the previous user
program's."""
    NAME = "user"

    def run(self, argv):
        if not argv or len(argv) > 2 or not argv[0].isdigit():
            raise KestrelError("usage: kestrel-user PID [FILE]")
        require_kernel()
        pid = int(argv[0])
        proc = next((p for p in processes() if int(p["pid"]) == pid), None)
        if proc is None:
            raise KestrelError(f"kestrel: no process {pid} (kestrel-ps lists them)")
        name = cstr(proc["name"])
        path = argv[1] if len(argv) > 1 else user_elf(name)
        load, has_lines, _ = load_user_symbols(path)
        pml4 = u64(field(field(proc, "vs").dereference(), "pml4")) if u64(field(proc, "vs")) else 0
        print(f"kestrel: symbols of '{name}' (pid {pid}) from {path}, loaded at {load:#x} "
              f"(address space PML4 {pml4:#x})")
        if not has_lines:
            print(f"kestrel: {path} has no line table (user code built without -g): "
                  f"functions only, no source lines")


# ------------------------------------------------------------------ stops

def current_cpu_of_thread():
    """(cpu index, struct cpu value) of the selected gdb thread, or (None,
    None); from its own registers only, so a Breakpoint.stop() may call it
    (it must not switch threads)."""
    cpus = ev("cpus")
    base, size = u64(cpus[0].address), cpus[0].type.sizeof
    frame = gdb.newest_frame()
    for reg in ("gs_base", "k_gs_base"):
        gs = u64(frame.read_register(reg))
        if base <= gs < base + size * ncpus() and (gs - base) % size == 0:
            return (gs - base) // size, cpus[(gs - base) // size]
    return None, None


class UserMainBreakpoint(gdb.Breakpoint):
    """A hardware breakpoint on a user program's main, which stops only in
    that program: debug registers compare linear addresses, and every
    process has its own code at 0x400000, so the hit must come from a CPU
    whose current task belongs to a process named prog and whose CR3 is that
    process's page tables."""

    def __init__(self, addr, prog):
        super().__init__(f"*{addr:#x}", type=gdb.BP_HARDWARE_BREAKPOINT)
        self.prog = prog

    def stop(self):
        try:
            i, c = current_cpu_of_thread()
            if c is None:
                return False
            cur = field(c, "current")
            proc = field(cur.dereference(), "proc") if u64(cur) else None
            if proc is None or not u64(proc) or cstr(proc["name"]) != self.prog:
                return False
            cr3 = u64(gdb.newest_frame().read_register("cr3")) & CR3_ADDR_MASK
            if cr3 != u64(field(field(proc, "vs").dereference(), "pml4")):
                return False
            print(f"kestrel: '{self.prog}' (pid {int(proc['pid'])}) reached main on CPU {i}")
            return True
        except (gdb.error, KestrelError) as e:
            print(f"kestrel: user breakpoint condition failed: {_one_line(e)}")
            return True


def set_stop(spec):
    """kernel: hbreak kernel_main. ap: hbreak ap_entry, the first C function
    of an AP. user:PROG: symbols of PROG and a hardware breakpoint on its
    main, conditioned on the process. Hardware breakpoints everywhere: under
    KVM a software breakpoint is an int3 written through the page tables,
    and the kernel's addresses do not exist before paging."""
    if spec in ("", "kernel"):
        gdb.execute("hbreak kernel_main")
    elif spec == "ap":
        gdb.execute("hbreak smp/smpboot.c:ap_entry")
    elif spec.startswith("user:") and len(spec) > len("user:"):
        prog = spec[len("user:"):]
        path = user_elf(prog)
        _, has_lines, syms = load_user_symbols(path)
        if "main" not in syms:
            raise KestrelError(f"kestrel: {path} has no symbol 'main'")
        UserMainBreakpoint(syms["main"], prog)
        print(f"kestrel: hardware breakpoint at {prog}'s main ({syms['main']:#x}), only in '{prog}'"
              + ("" if has_lines else "; no line table (user code built without -g)"))
    else:
        raise KestrelError(f"kestrel-stop: unknown stop '{spec}' (kernel, ap or user:PROG)")


class Stop(Sub):
    """Set the breakpoint of a boot stage (make debug DEBUG_STOP=...).
Usage: kestrel-stop kernel|ap|user:PROG
kernel: kernel_main. ap: ap_entry, an AP's first C function. user:PROG:
PROG's main, stopping only in PROG. All hardware breakpoints."""
    NAME = "stop"

    def run(self, argv):
        set_stop(argv[0] if argv else "kernel")


class Attach(Sub):
    """Connect to QEMU's gdbstub and run to a stop.
Usage: kestrel-attach HOST:PORT [kernel|ap|user:PROG]
Sets the stop as kestrel-stop does (default kernel) and continues."""
    NAME = "attach"

    def run(self, argv):
        if not argv or len(argv) > 2:
            raise KestrelError("usage: kestrel-attach HOST:PORT [kernel|ap|user:PROG]")
        gdb.execute(f"target remote {argv[0]}")
        set_stop(argv[1] if len(argv) > 1 else "kernel")
        gdb.execute("continue")


Kestrel()
for _cmd in (Ps, Cpus, Dmesg, Bt, Locks, User, Stop, Attach):
    _cmd.register()
